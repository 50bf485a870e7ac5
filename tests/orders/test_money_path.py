"""Purchase, renewal and recharge end to end through the test checkout and the webhook path."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from orders.models import Order, Payment, Sim, WebhookEvent
from orders.services.placing import place_purchase, place_recharge, place_renewal
from plans.models import PlanKind, SandboxOrder
from tests.orders.conftest import plan_of

pytestmark = pytest.mark.django_db


def test_purchase_is_paid_provisioned_and_emailed(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="CNY")
    assert order.total == Decimal("14.99") and order.status == Order.Status.CREATED

    response = pay(order)

    assert response.status_code == 302
    assert order.status == Order.Status.FULFILLED and order.paid_at and order.fulfilled_at
    payment = order.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount == order.total
    sim = order.issued_sims.get()
    assert sim.owner == customer and sim.status == Sim.Status.ISSUED
    assert sim.activation_code.startswith("LPA:1$") and sim.matching_id
    assert sim.data_total_mb == esim_plan.data_mb
    assert order.upstream_reference.startswith("sbx-")
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert sim.activation_code in mail.outbox[0].body
    assert "esimsetup.apple.com" in mail.outbox[0].alternatives[0][0]
    history = list(
        order.audit_entries().values_list("after__status", flat=True).exclude(after__status=None)
    )
    assert history == ["fulfilled", "provisioning", "paid", "awaiting_payment"]


def test_renewal_extends_validity_and_adds_data(customer, bought_sim, pay):
    plan = plan_of(PlanKind.RENEWAL, provider_sku__contains="month-30gb")
    before = bought_sim.expires_at
    order = place_renewal(plan=plan, customer=customer, currency="PKR", sim=bought_sim)
    pay(order)
    bought_sim.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert bought_sim.expires_at - before == timedelta(days=30)
    assert bought_sim.data_remaining_mb == 10240 + 30720
    assert bought_sim.current_plan == plan


def test_renewal_of_an_expired_sim_starts_again_from_now(customer, bought_sim, pay):
    plan = plan_of(PlanKind.RENEWAL, provider_sku__contains="week")
    Sim.objects.filter(pk=bought_sim.pk).update(
        status=Sim.Status.EXPIRED,
        expires_at=timezone.now() - timedelta(days=3),
        data_remaining_mb=100,
    )
    order = place_renewal(plan=plan, customer=customer, currency="PKR", sim=bought_sim)
    pay(order)
    bought_sim.refresh_from_db()
    assert bought_sim.status == Sim.Status.ACTIVE
    assert bought_sim.data_remaining_mb == plan.data_mb == bought_sim.data_total_mb
    assert abs(bought_sim.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_recharge_records_the_operator_transaction(customer, pay):
    plan = plan_of(PlanKind.RECHARGE, operator="zong", airtime_amount=Decimal("500"))
    order = place_recharge(plan=plan, customer=customer, currency="PKR", msisdn="0315 1234567")
    assert order.recharge_msisdn == "+923151234567" and order.recharge_operator.code == "zong"
    pay(order)
    assert order.status == Order.Status.FULFILLED
    assert order.upstream_reference.startswith("sbx-tx-")
    assert not order.issued_sims.exists()
    assert "0315 1234567" in mail.outbox[0].body


def test_pay_later_provisions_only_when_the_bank_confirms(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order, "later")
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert not SandboxOrder.objects.exists()
    pay(order, "async_succeeded")
    assert order.status == Order.Status.FULFILLED
    assert SandboxOrder.objects.count() == 1


def test_pay_later_then_bank_rejects(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order, "later")
    pay(order, "async_failed")
    assert order.status == Order.Status.PAYMENT_FAILED
    assert order.payments.get().status == Payment.Status.FAILED
    assert not SandboxOrder.objects.exists()


def test_failed_payment_can_be_retried(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order, "fail")
    assert order.status == Order.Status.PAYMENT_FAILED
    pay(order, "pay")
    assert order.status == Order.Status.FULFILLED
    assert list(order.payments.values_list("status", flat=True).order_by("pk")) == [
        "failed",
        "succeeded",
    ]


def test_a_paid_order_never_goes_back(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order, "pay")
    pay(order, "fail")
    pay(order, "async_failed")
    assert order.status == Order.Status.FULFILLED
    assert order.payments.get().status == Payment.Status.SUCCEEDED
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
