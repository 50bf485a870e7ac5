"""The partner catalog: partner prices, filters, cursor pages, ETags and query budgets."""

from decimal import Decimal

import pytest

from core.money import Currency
from orders.services.pricing import partner_price
from plans.models import PartnerPriceRule, Period, Plan, PlanKind, PlanPrice
from plans.services.prices import save_plan_price

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
LIST_BUDGET = 3  # key lookup, last-used stamp, the page (prices and rules are subqueries)


def all_plans(client, **params):
    response = client.get(PLANS, {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return response.json()["results"]


def test_every_price_is_the_partner_price(api_client, api_partner, plan_by_sku):
    results = all_plans(api_client)
    expected = Plan.objects.filter(is_active=True, prices__currency=Currency.PKR)
    assert {row["id"] for row in results} == set(expected.values_list("id", flat=True))
    assert {row["kind"] for row in results} == set(PlanKind.values)
    for row in results:
        price = partner_price(Plan.objects.get(pk=row["id"]), api_partner)
        assert row["price"] == {"amount": f"{price:.2f}", "currency": "PKR"}
    weekly = plan_by_sku("jazz-esim-week-10gb")
    row = next(row for row in results if row["id"] == weekly.pk)
    assert row["price"]["amount"] == "517.96"  # retail 563 less the silver 8 %


def test_the_most_specific_rule_wins(api_client, api_partner, plan_by_sku):
    weekly = plan_by_sku("jazz-esim-week-10gb")
    daily = plan_by_sku("jazz-esim-day-2gb")
    tier = api_partner.tier
    PartnerPriceRule.objects.create(tier=tier, operator=weekly.operator, discount_percent=10)
    PartnerPriceRule.objects.create(tier=tier, plan=weekly, discount_percent=20)
    amounts = {row["id"]: row["price"]["amount"] for row in all_plans(api_client)}
    assert amounts[weekly.pk] == "450.40"
    assert amounts[daily.pk] == f"{partner_price(daily, api_partner):.2f}"
    assert partner_price(weekly, api_partner) == Decimal("450.40")


def test_plan_shape(api_client, plan_by_sku):
    plan = plan_by_sku("zong-esim-month-30gb")
    response = api_client.get(f"{PLANS}{plan.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": plan.pk,
        "operator": {"code": "zong", "name": "Zong"},
        "kind": "esim",
        "name": "Zong Monthly 30 GB",
        "name_zh": "Zong 月包 30GB",
        "data_mb": 30720,
        "data_unlimited": False,
        "minutes": 500,
        "sms": None,
        "validity_days": 30,
        "period": "monthly",
        "price": {"amount": "1495.00", "currency": "PKR"},
    }


def test_plans_not_sold_in_the_partner_currency_or_inactive_are_left_out(api_client, plan_by_sku):
    usd_only = plan_by_sku("jazz-esim-day-2gb")
    usd_only.prices.exclude(currency=Currency.USD).delete()
    inactive = plan_by_sku("jazz-esim-week-10gb")
    Plan.objects.filter(pk=inactive.pk).update(is_active=False)
    ids = {row["id"] for row in all_plans(api_client)}
    assert usd_only.pk not in ids and inactive.pk not in ids
    for plan in (usd_only, inactive):
        response = api_client.get(f"{PLANS}{plan.pk}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"operator": "zong"}, lambda row: row["operator"]["code"] == "zong"),
        ({"kind": "renewal"}, lambda row: row["kind"] == "renewal"),
        ({"validity_days_min": 7}, lambda row: row["validity_days"] >= 7),
        ({"validity_days_max": 7}, lambda row: row["validity_days"] <= 7),
        (
            {"validity_days_min": 7, "validity_days_max": 7},
            lambda row: row["validity_days"] == 7,
        ),
        (
            {"data_mb_min": 30000},
            lambda row: row["data_unlimited"] or (row["data_mb"] or 0) >= 30000,
        ),
        (
            {"operator": "jazz", "kind": "esim", "data_mb_min": 10240},
            lambda row: (
                (row["operator"]["code"], row["kind"]) == ("jazz", "esim")
                and (row["data_mb"] or 0) >= 10240
            ),
        ),
    ],
)
def test_filters(api_client, params, check):
    everything = all_plans(api_client)
    results = all_plans(api_client, **params)
    assert results
    assert all(check(row) for row in results)
    assert [row for row in everything if check(row)] == results


def test_unlimited_plans_meet_any_data_minimum(api_client, plan_by_sku):
    unlimited = plan_by_sku("jazz-esim-month-60gb")
    Plan.objects.filter(pk=unlimited.pk).update(data_mb=None, data_unlimited=True)
    ids = {row["id"] for row in all_plans(api_client, data_mb_min=10**6)}
    assert ids == {unlimited.pk}


@pytest.mark.parametrize(
    "params",
    [{"validity_days_min": "week"}, {"data_mb_min": "-1"}, {"kind": "pizza"}],
)
def test_bad_filter_values_are_refused(api_client, params):
    response = api_client.get(PLANS, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["details"]) == set(params)


def test_cursor_pages_cover_the_catalog_once_in_order(api_client):
    everything = [row["id"] for row in all_plans(api_client)]
    seen, url = [], f"{PLANS}?page_size=7"
    while url:
        body = api_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == everything
    ordering = list(Plan.objects.filter(pk__in=everything).order_by("ordering", "id"))
    assert everything == [plan.pk for plan in ordering]


def test_etag_and_if_none_match(api_client, plan_by_sku):
    first = api_client.get(PLANS)
    etag = first["ETag"]
    assert etag.startswith('"') and "Authorization" in first["Vary"]
    again = api_client.get(PLANS, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert api_client.get(PLANS, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert api_client.get(PLANS, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert api_client.get(PLANS, {"kind": "esim"}, HTTP_IF_NONE_MATCH=etag).status_code == 200

    price = PlanPrice.objects.get(plan=plan_by_sku("jazz-esim-week-10gb"), currency="PKR")
    price.amount = Decimal("600")
    save_plan_price(price=price, actor=None, changed_fields=["amount"])
    changed = api_client.get(PLANS, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etag_on_one_plan_follows_the_partner_tier(api_client, api_partner, plan_by_sku):
    url = f"{PLANS}{plan_by_sku('jazz-esim-week-10gb').pk}/"
    etag = api_client.get(url)["ETag"]
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    api_partner.tier = "gold"
    api_partner.save(update_fields=["tier"])
    response = api_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["price"]["amount"] == "495.44"  # 563 less 12 %


@pytest.mark.parametrize("count", [10, 1000])
def test_query_budget(api_client, plan_by_sku, django_assert_max_num_queries, count):
    template = plan_by_sku("jazz-esim-week-10gb")
    plans = Plan.objects.bulk_create(
        Plan(
            operator_id=template.operator_id,
            provider_id=template.provider_id,
            provider_sku=f"bulk-{n}",
            kind=PlanKind.ESIM,
            name=f"Bulk {n}",
            data_mb=1024,
            validity_days=7,
            period=Period.WEEKLY,
            cost=Decimal("100"),
            cost_currency=Currency.PKR,
            ordering=1000 + n % 17,
        )
        for n in range(count)
    )
    PlanPrice.objects.bulk_create(
        PlanPrice(plan=plan, currency=Currency.PKR, amount=Decimal("125")) for plan in plans
    )
    with django_assert_max_num_queries(LIST_BUDGET):
        response = api_client.get(PLANS, {"page_size": 200, "kind": "esim"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(200, count + 12)
