"""Auto-renew: save a card through the test gateway, then one charge per SIM per period."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, connection, transaction

from orders.models import AutoRenewal, AutoRenewalCharge, Order, Payment, SavedPaymentMethod
from orders.models.notifications import Notification
from orders.services.autorenew.cards import enable_auto_renew
from orders.services.autorenew.charges import period_key, run_auto_renewals
from orders.services.placing import place_purchase
from plans.models import PlanKind
from tests.orders.conftest import plan_of
from tests.worlds import build_catalog, build_customer

pytestmark = pytest.mark.usefixtures("evening_before_new_year")

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
EXPIRY = START + timedelta(days=10)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sim(clock, bought_sim):
    """An eSIM the sandbox issued (so a renewal is provisioned upstream), expiring at EXPIRY."""
    bought_sim.expires_at = EXPIRY
    bought_sim.save(update_fields=["expires_at"])
    return bought_sim


def save_card(client, customer, sim, action="save", capture=None) -> SavedPaymentMethod:
    """Save a card through the site and the test gateway's setup page (its webhook path)."""
    client.force_login(customer)
    started = client.post(f"/sims/{sim.iccid}/auto-renew/card/")
    assert started.status_code == 302 and started.url.startswith("/pay/test/setup/")
    assert client.get(started.url).status_code == 200
    with capture(execute=True):
        done = client.post(started.url, {"action": action})
    assert done.status_code == 302 and f"/sims/{sim.iccid}/auto-renew/" in done.url
    return SavedPaymentMethod.objects.filter(customer=customer).latest("pk")


@pytest.fixture
def card(client, customer, sim, django_capture_on_commit_callbacks):
    return save_card(client, customer, sim, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def declining_card(client, customer, sim, django_capture_on_commit_callbacks):
    return save_card(
        client, customer, sim, "save_declining", capture=django_capture_on_commit_callbacks
    )


def enable(client, sim, card):
    plan = plan_of(PlanKind.RENEWAL)
    response = client.post(
        f"/sims/{sim.iccid}/auto-renew/",
        {"action": "enable", "plan": plan.pk, "payment_method": card.pk, "currency": "PKR"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return AutoRenewal.objects.get(sim=sim)


def run_at(clock, when, capture):
    clock.move_to(when)
    with capture(execute=True):
        return run_auto_renewals()


def test_saving_a_card_through_the_test_gateway(card, customer):
    assert card.usable and card.gateway == "test"
    assert card.label == "Visa •••• 4242"
    assert card.customer == customer and card.saved_at is not None


def test_a_run_charges_once_within_the_lead_time_and_renews_the_sim(
    client, sim, card, clock, django_capture_on_commit_callbacks
):
    renewal = enable(client, sim, card)
    assert renewal.enabled and renewal.currency == "PKR"

    counts = run_at(clock, EXPIRY - timedelta(hours=25), django_capture_on_commit_callbacks)
    assert counts["charged"] == 0 and not AutoRenewalCharge.objects.exists()

    run_at(clock, EXPIRY - timedelta(hours=23), django_capture_on_commit_callbacks)
    charge = AutoRenewalCharge.objects.get()
    assert (charge.status, charge.attempts, charge.period_key) == (
        "succeeded",
        1,
        period_key(EXPIRY),
    )
    assert charge.order.kind == Order.Kind.RENEWAL
    assert charge.order.status == Order.Status.FULFILLED
    renewal_plan = charge.order.plan
    assert charge.order.plan == renewal.plan
    assert (charge.order.cost, charge.order.cost_currency) == (
        renewal_plan.cost,
        renewal_plan.cost_currency,
    )
    payment = charge.order.payments.get()
    assert (payment.status, payment.gateway) == ("succeeded", "test")
    sim.refresh_from_db()
    assert sim.expires_at == EXPIRY + timedelta(days=renewal.plan.validity_days)

    # Later runs in the same period (and the next period, not yet due) charge nothing.
    again = run_at(clock, EXPIRY - timedelta(hours=22), django_capture_on_commit_callbacks)
    assert again["charged"] == 0
    assert AutoRenewalCharge.objects.count() == 1
    assert Payment.objects.filter(order__kind="renewal").count() == 1


def test_the_database_refuses_a_second_charge_for_the_same_period(client, sim, card):
    renewal = enable(client, sim, card)
    AutoRenewalCharge.objects.create(auto_renewal=renewal, period_key=period_key(EXPIRY))
    with pytest.raises(IntegrityError), transaction.atomic():
        AutoRenewalCharge.objects.create(auto_renewal=renewal, period_key=period_key(EXPIRY))


def test_a_decline_notifies_and_retries_once_after_the_delay(
    client, sim, declining_card, clock, settings, django_capture_on_commit_callbacks
):
    settings.AUTO_RENEW_RETRY_HOURS = 6
    enable(client, sim, declining_card)
    capture = django_capture_on_commit_callbacks
    mail.outbox.clear()

    run_at(clock, EXPIRY - timedelta(hours=23), capture)
    charge = AutoRenewalCharge.objects.get()
    assert (charge.status, charge.attempts, charge.last_error) == ("failed", 1, "card_declined")
    assert charge.order.status == Order.Status.PAYMENT_FAILED
    notice = Notification.objects.get(kind="auto_renew_failed")
    assert notice.user == sim.owner and notice.sim == sim and notice.channels == ["email"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [sim.owner.email]

    run_at(clock, EXPIRY - timedelta(hours=18), capture)  # 5 h later: too early to retry
    assert AutoRenewalCharge.objects.get().attempts == 1

    counts = run_at(clock, EXPIRY - timedelta(hours=16, minutes=30), capture)
    assert counts["retried"] == 1
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == ("failed", 2)
    assert Notification.objects.filter(kind="auto_renew_failed").count() == 2
    assert len(mail.outbox) == 2

    for hours in (10, 3):  # no third attempt, ever
        run_at(clock, EXPIRY - timedelta(hours=hours), capture)
    charge.refresh_from_db()
    assert charge.attempts == 2
    assert AutoRenewalCharge.objects.count() == 1
    payments = Payment.objects.filter(order=charge.order)
    assert payments.count() == 2 and not payments.filter(status="succeeded").exists()
    sim.refresh_from_db()
    assert sim.expires_at == EXPIRY


def test_switched_off_or_renewed_by_hand_is_not_charged(
    client, sim, card, clock, django_capture_on_commit_callbacks
):
    renewal = enable(client, sim, card)
    client.post(f"/sims/{sim.iccid}/auto-renew/", {"action": "disable"})
    renewal.refresh_from_db()
    assert not renewal.enabled
    run_at(clock, EXPIRY - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert not AutoRenewalCharge.objects.exists()


def test_enable_refuses_another_customers_card(sim, card, django_user_model):
    from orders.services.errors import OrderError

    other = django_user_model.objects.create_user(email="other@example.com", password="x")
    foreign = SavedPaymentMethod.objects.create(
        customer=other, gateway="test", payment_method_reference="pm_test_x", label="Visa"
    )
    with pytest.raises(OrderError):
        enable_auto_renew(
            sim=sim, plan=plan_of(PlanKind.RENEWAL), payment_method=foreign, currency="PKR"
        )
    assert not AutoRenewal.objects.exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_charge_once():
    from tests.reliability.test_concurrency import run_together

    assert connection.vendor == "postgresql"
    build_catalog()
    from orders.services.payments import mark_payment_succeeded, start_payment

    customer = build_customer()
    with time_machine.travel(START, tick=False):
        order = place_purchase(plan=plan_of(PlanKind.ESIM), customer=customer, currency="PKR")
        payment, _ = start_payment(order=order, gateway_key="test", method="card")
        mark_payment_succeeded(payment=payment)
        sim = order.issued_sims.get()
        sim.expires_at = EXPIRY
        sim.save(update_fields=["expires_at"])
        card = SavedPaymentMethod.objects.create(
            customer=customer, gateway="test", payment_method_reference="pm_test_ok", label="Visa"
        )
        enable_auto_renew(
            sim=sim, plan=plan_of(PlanKind.RENEWAL), payment_method=card, currency="PKR"
        )
    with time_machine.travel(EXPIRY - timedelta(hours=23), tick=False):
        results = run_together(lambda _i: run_auto_renewals(), 4)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["charged"] for r in results) == 1
    assert AutoRenewalCharge.objects.get().status == "succeeded"
    assert Payment.objects.filter(order__kind="renewal", status="succeeded").count() == 1
