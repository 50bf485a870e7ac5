"""Races on real PostgreSQL: duplicate webhooks, two provisioners, wallet overdraw."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Partner
from core import signing
from orders import tasks
from orders.models import Order, Payment, Sim, WalletEntry, WebhookEvent
from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
from orders.services import provisioning
from orders.services.errors import OrderError
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from orders.services.wallet import adjust_wallet
from orders.services.wallet_audit import audit_partner
from plans.models import Plan, Provider, SandboxOrder
from tests.worlds import CUSTOMER_EMAIL, build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_together(target, count: int) -> list:
    """Run ``target(i)`` in ``count`` threads released at once; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.fixture
def plan():
    assert connection.vendor == "postgresql"
    build_world()
    return Plan.objects.filter(kind="esim", operator__code="jazz").first()


def test_ten_identical_webhooks_at_once_pay_and_provision_once(plan, django_user_model):
    customer = django_user_model.objects.get(email=CUSTOMER_EMAIL)
    order = place_purchase(plan=plan, customer=customer, currency="PKR")
    payment, _ = start_payment(order=order, gateway_key="test", method="card")
    body = build_event("checkout.session.completed", payment, payment_status="paid")
    header = signing.sign(body, signing_secret())

    def deliver(_):
        return (
            Client()
            .post(
                "/webhooks/test/",
                body,
                content_type="application/json",
                headers={SIGNATURE_HEADER: header},
            )
            .status_code
        )

    assert run_together(deliver, 10) == [200] * 10
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert WebhookEvent.objects.count() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert Sim.objects.count() == 1 and SandboxOrder.objects.count() == 1
    assert order.provisioning_attempts.count() == 1


def test_two_workers_provisioning_the_same_order_call_upstream_once(plan, monkeypatch):
    Provider.objects.update(settings={"latency_seconds": 1})
    monkeypatch.setattr(tasks.provision_order, "delay_on_commit", lambda *args: None)
    order = place_purchase(plan=plan, partner=Partner.objects.get())
    assert order.status == Order.Status.PAID

    outcomes = run_together(lambda _: provisioning.provision_order(order.pk), 2)

    busy = [o for o in outcomes if isinstance(o, provisioning.ProvisioningBusy)]
    assert len(busy) == 1 and Order.Status.FULFILLED in outcomes
    assert SandboxOrder.objects.get().calls == 1
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED and order.provisioning_attempts.count() == 1


def test_concurrent_wallet_orders_never_overdraw(plan):
    partner = Partner.objects.get()
    price = place_purchase(plan=plan, partner=partner).total
    balance = WalletEntry.balance_of(partner)
    adjust_wallet(
        partner=partner,
        amount=-(balance - 3 * price),
        reason="leave room for 3",
        actor=None,
        kind=WalletEntry.Kind.ADJUSTMENT,
    )

    outcomes = run_together(lambda _: place_purchase(plan=plan, partner=partner), 8)

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, OrderError)]
    assert len(placed) == 3 and len(refused) == 5
    assert {e.code for e in refused} == {"insufficient_funds"}
    assert WalletEntry.balance_of(partner) == Decimal(0)
    debits = WalletEntry.objects.filter(kind="order_debit").count()
    assert debits == Order.objects.count() == 4


def test_concurrent_debits_and_credits_keep_the_running_balance_whole(plan):
    """Orders, staff credits and debits of one partner at once: every entry's running balance is
    the sum of the ledger up to it, so the newest one is the balance."""
    partner = Partner.objects.get()
    opening = WalletEntry.balance_of(partner)

    def write(index):
        if index % 3 == 0:
            return place_purchase(plan=plan, partner=partner)
        amount = Decimal(index) if index % 3 == 1 else -Decimal(index) / 4
        return adjust_wallet(partner=partner, amount=amount, reason="race", actor=None)

    outcomes = run_together(write, 12) + run_together(write, 12)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert audit_partner(partner) == []
    entries = WalletEntry.objects.filter(partner=partner).order_by("pk")
    assert entries.count() == 25  # the opening balance and 24 writes
    assert WalletEntry.balance_of(partner) == WalletEntry.ledger_sum(partner)
    assert WalletEntry.balance_of(partner) == opening + sum(e.amount for e in entries[1:])
