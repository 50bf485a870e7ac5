"""Money on admin pages reads in the currency's minor units (``CNY 2.99``), through one
formatter, in list columns, read-only fields and the admin's own pages."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from core.money import Currency
from tests.factories import (
    OrderFactory,
    PartnerFactory,
    PaymentFactory,
    PlanFactory,
    RefundFactory,
    WalletEntryFactory,
)

pytestmark = pytest.mark.django_db

FOUR_PLACES = re.compile(r"\b\d+\.\d{4}\b")


def page(client, name, *args):
    response = client.get(reverse(f"admin:{name}", args=args))
    assert response.status_code == 200
    return response.text


def test_order_list_and_page_show_yuan_with_two_places(client, signed_in_superuser):
    plan = PlanFactory(cost=Decimal("1.2000"), cost_currency=Currency.CNY)
    order = OrderFactory(
        plan=plan, currency=Currency.CNY, subtotal=Decimal("2.99"), total=Decimal("2.99")
    )
    RefundFactory(
        payment=PaymentFactory(order=order, amount=Decimal("2.99"), currency=Currency.CNY),
        amount=Decimal("1.5"),
        currency=Currency.CNY,
    )
    listed = page(client, "orders_order_changelist")
    assert "CNY 2.99" in listed and not FOUR_PLACES.search(listed)
    shown = page(client, "orders_order_change", order.pk)
    assert "CNY 2.99" in shown and "CNY 1.20" in shown and "CNY 1.50" in shown
    assert "CNY 1.79" in shown  # the margin
    assert not FOUR_PLACES.search(shown)


def test_payment_refund_and_wallet_lists_show_minor_units(client, signed_in_superuser):
    partner = PartnerFactory(currency=Currency.USD, credit_limit=Decimal("250"))
    WalletEntryFactory(partner=partner, amount=Decimal("1234.5"), currency=Currency.USD)
    RefundFactory(amount=Decimal("100"), currency=Currency.PKR)
    for name in (
        "orders_payment_changelist",
        "orders_refund_changelist",
        "orders_walletentry_changelist",
        "accounts_partner_changelist",
    ):
        assert not FOUR_PLACES.search(page(client, name)), name
    assert "PKR 100.00" in page(client, "orders_refund_changelist")
    assert "USD 1,234.50" in page(client, "orders_walletentry_changelist")
    partners = page(client, "accounts_partner_changelist")
    assert "USD 250.00" in partners and "USD 1,234.50" in partners  # credit limit, balance
    wallet = page(client, "accounts_partner_wallet", partner.pk)
    assert "USD 1,234.50" in wallet and "USD 250.00" in wallet


def test_an_upstream_cost_finer_than_a_cent_keeps_its_digits(client, signed_in_superuser):
    PlanFactory(cost=Decimal("0.0125"), cost_currency=Currency.USD)
    PlanFactory(cost=Decimal("3.5"), cost_currency=Currency.USD)
    listed = page(client, "plans_plan_changelist")
    assert "USD 0.0125" in listed and "USD 3.50" in listed


def test_money_shown_read_only_is_still_not_editable(client, signed_in_superuser):
    order = OrderFactory(currency=Currency.CNY, subtotal=Decimal("2.99"), total=Decimal("2.99"))
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    form = response.context["adminform"].form
    assert not {"total", "subtotal", "discount", "cost"} & set(form.fields)
