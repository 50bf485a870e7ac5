"""Staff read phone numbers nationally and amounts in the currency's minor units; the order's
number is 订单号 (an attempt's number stays 序号)."""

from decimal import Decimal

import pytest
from django.forms import MultiWidget
from django.urls import reverse

from accounts.models import Partner
from orders.models import Order
from tests.factories import (
    OrderFactory,
    PartnerFactory,
    PlanFactory,
    PlanPriceFactory,
    ProvisioningAttemptFactory,
    SimFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the browser would send back for the change page as rendered (inlines included)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            widget = field.field.widget
            if isinstance(widget, MultiWidget):
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{field.html_name}_{index}"] = part
                continue
            data[field.html_name] = "on" if value is True else value
    return data


@pytest.fixture
def zh_admin(client, signed_in_administrator, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def test_phone_numbers_are_national_on_admin_pages_and_lists(zh_admin):
    order = OrderFactory(kind=Order.Kind.RECHARGE, recharge_msisdn="+923001234567")
    sim = SimFactory(msisdn="+923009876543")
    UserFactory(phone="+923331112222")
    pages = [
        zh_admin.get(reverse("admin:orders_order_change", args=[order.pk])),
        zh_admin.get(reverse("admin:orders_sim_change", args=[sim.pk])),
        zh_admin.get(reverse("admin:accounts_user_changelist")),
    ]
    body = "".join(page.content.decode() for page in pages)
    assert "0300 1234567" in body and "0300 9876543" in body and "0333 1112222" in body
    assert "+923001234567" not in body and "+923009876543" not in body
    assert "+923331112222" not in body


def test_an_editable_phone_is_still_stored_in_e164(zh_admin):
    customer = UserFactory(phone="+923331112222")
    url = reverse("admin:accounts_user_change", args=[customer.pk])
    page = zh_admin.get(url)
    assert 'value="+923331112222"' in page.content.decode()  # the input edits what is stored
    response = zh_admin.post(url, {**form_data(page), "phone": "+923451234567"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.phone == "+923451234567"


def test_money_inputs_show_the_currencys_minor_units(zh_admin):
    partner = PartnerFactory(credit_limit=Decimal("2.99"), low_balance_threshold=Decimal("100"))
    page = zh_admin.get(reverse("admin:accounts_partner_change", args=[partner.pk])).content
    assert b'value="2.99"' in page and b'value="100.00"' in page and b"2.9900" not in page
    price = PlanPriceFactory(plan=PlanFactory(cost=Decimal("0.0125")), amount=Decimal("599"))
    page = zh_admin.get(reverse("admin:plans_plan_change", args=[price.plan.pk])).content
    assert b'value="599.00"' in page and b'value="0.0125"' in page


def test_a_money_input_keeps_the_exact_value(zh_admin):
    partner = PartnerFactory()
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    data = form_data(zh_admin.get(url))
    response = zh_admin.post(url, {**data, "credit_limit": "1250.50"})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.credit_limit == Decimal("1250.50")


@pytest.mark.parametrize("amount", ["12.345", "0.001"])
def test_more_decimals_than_the_currency_has_are_refused(zh_admin, amount):
    partner = PartnerFactory(credit_limit=Decimal("10"))
    url = reverse("admin:accounts_partner_change", args=[partner.pk])
    response = zh_admin.post(url, {**form_data(zh_admin.get(url)), "credit_limit": amount})
    assert response.status_code == 200
    assert "PKR 金额最多只能有 2 位小数。" in response.content.decode()
    assert Partner.objects.get(pk=partner.pk).credit_limit == Decimal("10")


def test_a_plan_price_with_too_many_decimals_is_refused(zh_admin):
    price = PlanPriceFactory(amount=Decimal("599"))
    url = reverse("admin:plans_plan_change", args=[price.plan.pk])
    data = form_data(zh_admin.get(url))
    amount_key = next(key for key in data if key.endswith("-amount"))
    response = zh_admin.post(url, {**data, amount_key: "599.999"})
    assert response.status_code == 200 and "2 位小数" in response.content.decode()
    price.refresh_from_db()
    assert price.amount == Decimal("599")


def test_the_orders_number_is_called_the_order_number(zh_admin):
    order = OrderFactory()
    ProvisioningAttemptFactory(order=order, number=1)
    change = zh_admin.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "订单号" in change and "序号" in change  # the attempts inline keeps 序号
    listing = zh_admin.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "订单号" in listing and "序号" not in listing


def test_admin_lists_with_phone_numbers_keep_their_query_budget(
    zh_admin, django_assert_max_num_queries
):
    for n in range(30):
        UserFactory(phone=f"+9230012345{n:02d}")
        SimFactory(msisdn=f"+9230098765{n:02d}")
    for name in ("admin:accounts_user_changelist", "admin:orders_sim_changelist"):
        zh_admin.get(reverse(name))
        with django_assert_max_num_queries(12):
            assert zh_admin.get(reverse(name)).status_code == 200
