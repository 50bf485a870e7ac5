"""Placing orders: prices, promotions and every refusal of bad input (nothing is written)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Partner, PriceTier
from orders.models import Gateway, Order, Payment, Sim
from orders.services.errors import OrderError
from orders.services.lifecycle import cancel_order
from orders.services.payments import confirm_manual_payment, methods_for, start_payment
from orders.services.placing import detect_operator, place_order, place_purchase
from plans.models import PartnerPriceRule, PlanKind, Promotion
from tests.factories import CustomerFactory, SimFactory
from tests.orders.conftest import plan_of

pytestmark = pytest.mark.django_db


def refused(code, **kwargs):
    with pytest.raises(OrderError) as error:
        place_order(**kwargs)
    assert error.value.code == code
    assert not Order.objects.exists()


def test_partner_price_uses_the_most_specific_rule(catalog, esim_plan, world_partner):
    partner = world_partner
    assert place_purchase(plan=esim_plan, partner=partner).total == Decimal("517.96")
    PartnerPriceRule.objects.create(
        tier=partner.tier, operator=esim_plan.operator, discount_percent=Decimal("10")
    )
    assert place_purchase(plan=esim_plan, partner=partner).total == Decimal("506.70")
    PartnerPriceRule.objects.create(
        tier=partner.tier, plan=esim_plan, discount_percent=Decimal("20")
    )
    assert place_purchase(plan=esim_plan, partner=partner).total == Decimal("450.40")


def test_a_stale_copy_of_the_partner_is_priced_as_its_locked_row_reads(
    catalog, esim_plan, world_partner
):
    """The API passes the partner as its key's cached record has it; the row decides."""
    copy = Partner(pk=world_partner.pk, currency=world_partner.currency, tier=world_partner.tier)
    tier = next(tier for tier in PriceTier.values if tier != world_partner.tier)
    PartnerPriceRule.objects.create(tier=tier, plan=esim_plan, discount_percent=Decimal("20"))
    Partner.objects.filter(pk=world_partner.pk).update(tier=tier)
    order = place_purchase(plan=esim_plan, partner=copy)
    fresh = place_purchase(plan=esim_plan, partner=Partner.objects.get(pk=world_partner.pk))
    assert (
        (order.total, order.currency)
        == (fresh.total, fresh.currency)
        == (
            Decimal("450.40"),
            world_partner.currency,
        )
    )


def test_promotions(customer, esim_plan):
    now = timezone.now()
    Promotion.objects.create(code="welcome10", percent_off=Decimal("10"), starts_at=now)
    Promotion.objects.create(
        code="CNY5",
        amount_off=Decimal("5"),
        amount_currency="CNY",
        starts_at=now,
        max_redemptions=1,
    )
    Promotion.objects.create(
        code="OLD",
        percent_off=Decimal("50"),
        starts_at=now - timedelta(days=9),
        ends_at=now - timedelta(days=1),
    )
    order = place_purchase(
        plan=esim_plan,
        customer=customer,
        currency="PKR",
        promotion_code=" Welcome10 ",
    )
    assert (order.subtotal, order.discount, order.total) == (
        Decimal("563"),
        Decimal("56.30"),
        Decimal("506.70"),
    )
    order = place_purchase(plan=esim_plan, customer=customer, currency="CNY", promotion_code="cny5")
    assert order.total == Decimal("9.99")
    count = Order.objects.count()
    for code, currency, error in [
        ("CNY5", "CNY", "promotion_used_up"),
        ("OLD", "PKR", "promotion_invalid"),
        ("NOPE", "PKR", "promotion_invalid"),
    ]:
        with pytest.raises(OrderError) as raised:
            place_purchase(
                plan=esim_plan,
                customer=customer,
                currency=currency,
                promotion_code=code,
            )
        assert raised.value.code == error
    Promotion.objects.filter(code="CNY5").update(max_redemptions=5)
    with pytest.raises(OrderError) as raised:
        place_purchase(
            plan=esim_plan,
            customer=customer,
            currency="PKR",
            promotion_code="CNY5",
        )
    assert raised.value.code == "promotion_currency"
    assert Order.objects.count() == count


def test_bad_purchase_input_is_refused(customer, esim_plan):
    base = {"kind": "purchase", "customer": customer, "currency": "PKR"}
    refused("plan_unavailable", plan=plan_of(PlanKind.RECHARGE), **base)
    refused("quantity_invalid", plan=esim_plan, quantity=0, **base)
    refused("quantity_invalid", plan=esim_plan, quantity=2, **base)
    refused("currency_invalid", plan=esim_plan, **{**base, "currency": "EUR"})
    refused("kind_invalid", plan=esim_plan, **{**base, "kind": "gift"})
    refused("buyer_required", plan=esim_plan, kind="purchase", currency="PKR")
    esim_plan.is_active = False
    esim_plan.save()
    refused("plan_unavailable", plan=esim_plan, **base)


def test_renewal_needs_the_buyers_own_live_sim_and_a_fitting_plan(customer, catalog):
    plan = plan_of(PlanKind.RENEWAL)
    mine = SimFactory(owner=customer, operator=plan.operator)
    base = {"kind": "renewal", "customer": customer, "currency": "PKR"}
    refused("sim_not_found", plan=plan, **base)
    refused(
        "sim_not_found",
        plan=plan,
        sim=SimFactory(owner=CustomerFactory(), operator=plan.operator),
        **base,
    )
    refused("plan_does_not_fit", plan=plan_of(PlanKind.RENEWAL, operator="zong"), sim=mine, **base)
    Sim.objects.filter(pk=mine.pk).update(status=Sim.Status.REPLACED)
    mine.refresh_from_db()
    refused("sim_not_renewable", plan=plan, sim=mine, **base)


def test_recharge_number_and_operator(customer, catalog):
    jazz = plan_of(PlanKind.RECHARGE)
    base = {"kind": "recharge", "customer": customer, "currency": "PKR", "plan": jazz}
    refused("msisdn_invalid", msisdn="042 35761234", **base)
    refused("msisdn_invalid", msisdn="+86 138 0013 8000", **base)
    refused("msisdn_invalid", msisdn="", **base)
    refused("plan_does_not_fit", msisdn="0345 1234567", **base)  # a Telenor prefix
    ported = place_order(msisdn="0345 1234567", operator=jazz.operator, **base)
    assert ported.recharge_operator == jazz.operator
    assert detect_operator("+923451234567").code == "telenor"
    assert detect_operator("+923991234567") is None


def test_payment_methods_follow_the_currency(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.LOCAL_WALLETS = {}
    assert ("stripe", "alipay") not in methods_for("PKR")
    assert ("manual", "jazzcash") in methods_for("PKR")  # by hand while not automated
    settings.LOCAL_WALLETS = {"jazzcash": "fake"}
    pkr = methods_for("PKR")
    assert {("jazzcash", "jazzcash"), ("jazzcash", "jazzcash_mobile")} <= set(pkr)
    assert ("manual", "jazzcash") not in pkr and ("manual", "easypaisa") in pkr
    assert not {gateway for gateway, _ in methods_for("USD")} & {"jazzcash", "manual"}
    assert {("stripe", "card"), ("stripe", "alipay"), ("stripe", "wechat_pay")} <= set(
        methods_for("CNY")
    )
    assert ("manual", "bank_transfer") not in methods_for("USD")


def test_manual_payment_waits_for_staff(
    customer, esim_plan, staff_member, django_capture_on_commit_callbacks
):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    with pytest.raises(OrderError):
        start_payment(order=order, gateway_key="manual", method="bank_transfer")
    with pytest.raises(OrderError):
        start_payment(order=order, gateway_key="test", method="alipay")
    payment, started = start_payment(
        order=order,
        gateway_key=Gateway.MANUAL,
        method="bank_transfer",
        customer_reference="JC-7788",
        success_url="/done/",
    )
    assert started.redirect_url == "/done/" and payment.customer_reference == "JC-7788"
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm_manual_payment(payment=payment, actor=staff_member)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED


def test_cancel_before_payment_only(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    payment, _ = start_payment(order=order, gateway_key="test", method="card")
    cancel_order(order=order, reason="changed my mind")
    payment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and payment.status == Payment.Status.CANCELLED
    paid = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(paid)
    with pytest.raises(OrderError):
        cancel_order(order=paid)
