"""The catalog and plan pages: filters, prices per currency, query budget, the home page."""

import pytest
from django.urls import reverse

from plans.models import Plan, PlanKind, PlanPrice
from tests.site.conftest import add_plans

pytestmark = pytest.mark.django_db
CATALOG = "/plans/"


def listed(response) -> list[Plan]:
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def test_catalog_lists_active_esim_plans_with_their_details(client, catalog):
    Plan.objects.filter(provider_sku="zong-esim-day-2gb").update(is_active=False)
    response = client.get(CATALOG, {"currency": "PKR"})
    plans = listed(response)
    assert len(plans) == 11
    assert {plan.kind for plan in plans} == {PlanKind.ESIM}
    body = response.content.decode()
    assert "Jazz Weekly 10 GB" in body and "10 GB" in body and "7 days" in body
    assert "Zong Daily 2 GB" not in body
    assert "renewal" not in body
    assert f'href="{reverse("plans:detail", args=[plans[0].pk])}"' in body


def test_filter_by_operator(client, catalog):
    plans = listed(client.get(CATALOG, {"operator": "zong"}))
    assert len(plans) == 4 and {plan.operator.code for plan in plans} == {"zong"}


def test_filter_by_period(client, catalog):
    plans = listed(client.get(CATALOG, {"period": "daily"}))
    assert len(plans) == 3 and {plan.period for plan in plans} == {"daily"}


def test_filter_by_minimum_data_includes_unlimited_plans(client, catalog):
    add_plans(1, data_mb=None, data_unlimited=True, name="Jazz Unlimited")
    plans = listed(client.get(CATALOG, {"min_data": "30"}))
    assert {plan.name for plan in plans if "Jazz" in plan.name} == {
        "Jazz Monthly 30 GB",
        "Jazz Monthly 60 GB",
        "Jazz Unlimited",
    }
    assert "Unlimited" in client.get(CATALOG, {"min_data": "30"}).content.decode()


def test_filter_by_validity_range(client, catalog):
    at_least_week = listed(client.get(CATALOG, {"min_days": "7"}))
    assert {plan.validity_days for plan in at_least_week} == {7, 30}
    up_to_week = listed(client.get(CATALOG, {"max_days": "7"}))
    assert {plan.validity_days for plan in up_to_week} == {1, 7}
    exactly_week = listed(client.get(CATALOG, {"min_days": "7", "max_days": "7"}))
    assert len(exactly_week) == 3


def test_filter_by_maximum_price_in_the_current_currency(client, catalog):
    plans = listed(client.get(CATALOG, {"currency": "CNY", "max_price": "15"}))
    assert {plan.period for plan in plans} == {"daily", "weekly"}
    assert len(listed(client.get(CATALOG, {"currency": "PKR", "max_price": "15"}))) == 0


def test_filters_combine(client, catalog):
    plans = listed(client.get(CATALOG, {"operator": "telenor", "period": "monthly"}))
    assert [plan.name for plan in plans] == ["Telenor Monthly 30 GB", "Telenor Monthly 60 GB"]


@pytest.mark.parametrize(
    "params",
    [
        {"min_data": "-1"},
        {"min_days": "lots"},
        {"min_days": "30", "max_days": "7"},
        {"operator": "vodafone"},
        {"period": "hourly"},
        {"max_price": "-5"},
    ],
)
def test_bad_filter_input_is_shown_as_a_form_error(client, catalog, params):
    response = client.get(CATALOG, params)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.parametrize(
    ("currency", "price"), [("PKR", "PKR 563.00"), ("USD", "USD 2.99"), ("CNY", "CNY 14.99")]
)
def test_prices_are_shown_in_the_chosen_currency(client, catalog, currency, price):
    response = client.get(CATALOG, {"currency": currency, "operator": "jazz", "period": "weekly"})
    body = response.content.decode()
    assert price in body
    assert f'<strong aria-current="true">{currency}</strong>' in body
    # The switcher keeps the filters.
    other = "USD" if currency != "USD" else "PKR"
    assert f"?currency={other}&amp;operator=jazz&amp;period=weekly" in body


def test_chosen_currency_is_remembered(client, catalog):
    client.get(CATALOG, {"currency": "USD"})
    assert "USD 2.99" in client.get(CATALOG, {"operator": "jazz"}).content.decode()


def test_plans_without_a_price_in_the_currency_are_hidden(client, catalog):
    weekly = Plan.objects.get(provider_sku="jazz-esim-week-10gb")
    PlanPrice.objects.filter(plan=weekly, currency="USD").delete()
    assert weekly not in listed(client.get(CATALOG, {"currency": "USD"}))
    assert weekly in listed(client.get(CATALOG, {"currency": "PKR"}))


def test_catalog_speaks_chinese(client, catalog):
    response = client.get(CATALOG, headers={"accept-language": "zh-CN,zh;q=0.9"})
    body = response.content.decode()
    assert "Jazz 周包 10GB" in body and "CNY 14.99" in body


def test_catalog_query_count_does_not_grow_with_the_catalog(
    client, catalog, django_assert_max_num_queries
):
    client.get(CATALOG, {"currency": "PKR"})
    with django_assert_max_num_queries(4):
        small = listed(client.get(CATALOG, {"min_days": "1"}))
    add_plans(64)
    with django_assert_max_num_queries(4):
        large = client.get(CATALOG, {"min_days": "1"})
    assert len(small) == 12 and large.context["page"].paginator.count == 76
    assert "Page 1 of 4" in large.content.decode()


def test_plan_page_shows_details_and_the_buy_form(shopper, esim_plan):
    response = shopper.get(reverse("plans:detail", args=[esim_plan.pk]), {"currency": "CNY"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Jazz Weekly 10 GB" in body and "CNY 14.99" in body and "100" in body
    assert f'action="{reverse("orders:buy", args=[esim_plan.pk])}"' in body
    assert '<option value="CNY" selected>CNY 14.99</option>' in body
    assert "USD 2.99" in body and "PKR 563.00" in body


def test_plan_page_sends_visitors_to_log_in(client, esim_plan):
    detail = reverse("plans:detail", args=[esim_plan.pk])
    body = client.get(detail).content.decode()
    assert f'href="{reverse("account_login")}?next={detail}"' in body
    assert "orders/buy" not in body


def test_only_active_esim_plans_have_a_page(client, catalog):
    renewal = Plan.objects.filter(kind=PlanKind.RENEWAL).first()
    assert client.get(reverse("plans:detail", args=[renewal.pk])).status_code == 404
    inactive = Plan.objects.filter(kind=PlanKind.ESIM).first()
    Plan.objects.filter(pk=inactive.pk).update(is_active=False)
    assert client.get(reverse("plans:detail", args=[inactive.pk])).status_code == 404


def test_home_page_links_to_the_catalog_and_recharge(client, catalog):
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("plans:list")}"' in body
    assert f'href="{reverse("recharge:start")}"' in body
    assert f'href="{reverse("plans:list")}?operator=zong"' in body
    assert "Ufone" in body
