"""Refunds (full, partial, wallet) and the partner wallet ledger."""

from decimal import Decimal

import pytest

from accounts.models import Partner
from orders.models import Order, Payment, Refund, WalletEntry
from orders.services.errors import OrderError
from orders.services.placing import place_purchase
from orders.services.refunds import refund_order
from orders.services.wallet import adjust_wallet
from plans.models import Plan
from tests.worlds import PARTNER_OPENING_BALANCE

pytestmark = pytest.mark.django_db


@pytest.fixture
def fulfilled(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order)
    return order


def test_partial_then_full_refund(fulfilled, staff_member):
    staff = staff_member
    first = refund_order(order=fulfilled, amount=Decimal("100"), actor=staff, reason="goodwill")
    fulfilled.refresh_from_db()
    assert first.status == Refund.Status.SUCCEEDED and first.external_reference
    assert fulfilled.status == Order.Status.FULFILLED
    assert fulfilled.payments.get().status == Payment.Status.SUCCEEDED

    rest = refund_order(order=fulfilled, actor=staff)
    fulfilled.refresh_from_db()
    assert rest.amount == fulfilled.total - Decimal("100")
    assert fulfilled.status == Order.Status.REFUNDED
    assert fulfilled.payments.get().status == Payment.Status.REFUNDED
    assert fulfilled.audit_entries().filter(actor=staff).exists()


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("100000")])
def test_refund_amount_must_fit_what_is_left(fulfilled, amount):
    with pytest.raises(OrderError) as error:
        refund_order(order=fulfilled, amount=amount)
    assert error.value.code == "amount_invalid"
    assert not Refund.objects.exists()


def test_unpaid_order_cannot_be_refunded(customer, esim_plan):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    with pytest.raises(OrderError):
        refund_order(order=order)


def test_partner_order_debits_the_wallet_in_the_same_transaction(world_partner, esim_plan):
    order = place_purchase(plan=esim_plan, partner=world_partner, quantity=2)
    assert order.status == Order.Status.PAID
    assert order.total == Decimal("563") * 2 * Decimal("0.92")
    assert WalletEntry.balance_of(world_partner) == PARTNER_OPENING_BALANCE - order.total
    payment = order.payments.get()
    assert payment.gateway == "wallet" and payment.status == Payment.Status.SUCCEEDED


def test_not_enough_balance_gives_a_clear_error_and_no_order(world_partner, esim_plan):
    adjust_wallet(
        partner=world_partner,
        amount=-PARTNER_OPENING_BALANCE + 100,
        reason="test",
        actor=None,
        kind=WalletEntry.Kind.ADJUSTMENT,
    )
    with pytest.raises(OrderError) as error:
        place_purchase(plan=esim_plan, partner=world_partner)
    assert error.value.code == "insufficient_funds"
    assert not Order.objects.exists() and not Payment.objects.exists()
    Partner.objects.filter(pk=world_partner.pk).update(credit_limit=Decimal("1000"))
    world_partner.refresh_from_db()
    assert place_purchase(plan=esim_plan, partner=world_partner).status == "paid"
    assert WalletEntry.balance_of(world_partner) < 0


def test_wallet_refund_credits_the_ledger(world_partner, esim_plan):
    order = place_purchase(plan=esim_plan, partner=world_partner)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.NEEDS_ATTENTION)
    refund_order(order=order, reason="could not provision")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert WalletEntry.balance_of(world_partner) == PARTNER_OPENING_BALANCE
    kinds = list(WalletEntry.objects.filter(order=order).values_list("kind", flat=True))
    assert sorted(kinds) == ["order_debit", "refund"]


def test_same_idempotency_key_returns_the_same_order(world_partner, esim_plan):
    first = place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k1")
    again = place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k1")
    assert first.pk == again.pk
    assert WalletEntry.objects.filter(kind="order_debit").count() == 1


@pytest.mark.parametrize("change", ["plan withdrawn", "price above the maximum", "wallet empty"])
def test_a_key_again_returns_its_order_whatever_changed_since(world_partner, esim_plan, change):
    first = place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k2")
    max_price = None
    if change == "plan withdrawn":
        Plan.objects.filter(pk=esim_plan.pk).update(is_active=False)
        esim_plan.refresh_from_db()
    elif change == "price above the maximum":
        max_price = Decimal("0.01")
    else:
        adjust_wallet(
            partner=world_partner,
            amount=-(WalletEntry.balance_of(world_partner) + world_partner.credit_limit),
            reason="emptied",
            actor=None,
        )
    again = place_purchase(
        plan=esim_plan, partner=world_partner, idempotency_key="k2", max_price=max_price
    )
    assert again.pk == first.pk
    assert WalletEntry.objects.filter(kind="order_debit").count() == 1
    with pytest.raises(OrderError) as refused:  # a new key meets the change
        place_purchase(
            plan=esim_plan, partner=world_partner, idempotency_key="k3", max_price=max_price
        )
    assert refused.value.code in {"plan_unavailable", "price_changed", "insufficient_funds"}


def test_a_key_again_with_another_request_is_refused(world_partner, esim_plan):
    place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k4")
    with pytest.raises(OrderError) as refused:
        place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k4", quantity=2)
    assert refused.value.code == "idempotency_mismatch"


def test_staff_wallet_changes_need_a_reason_and_are_audited(world_partner, staff_member):
    staff = staff_member
    with pytest.raises(OrderError):
        adjust_wallet(partner=world_partner, amount=Decimal("10"), reason=" ", actor=staff)
    adjust_wallet(
        partner=world_partner, amount=Decimal("10"), reason="bank transfer 123", actor=staff
    )
    assert WalletEntry.balance_of(world_partner) == PARTNER_OPENING_BALANCE + 10
    assert partner_audit(world_partner, staff)


def partner_audit(world_partner, staff):
    from core.audit import entries_for

    return entries_for(world_partner).filter(actor=staff, action="wallet.adjusted").exists()
