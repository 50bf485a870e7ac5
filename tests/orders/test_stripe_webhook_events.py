"""Stripe events through the webhook endpoint: other apps' objects, and expired checkouts."""

import json

import pytest
import responses
from django.utils import timezone

from core import signing
from core.audit import entries_for
from core.money import to_minor_units
from orders import tasks
from orders.models import Order, Payment, SavedPaymentMethod, WebhookEvent
from orders.services.lifecycle import PAYABLE_STATES
from orders.services.payment_events import NOT_OURS
from orders.services.payments import start_payment
from orders.site.checkout import status_context
from tests.orders.test_stripe_gateway import (
    SECRET,
    SESSION_ID,
    SESSIONS,
    expect_session_lookup,
    session_json,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]
URL = "/webhooks/stripe/"


def stripe_event(event_type: str, obj: dict, event_id: str = "evt_1") -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    ).encode()


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """A signed POST; the processing task runs at once, eagerly (a retry would raise)."""

    def _post(body: bytes, *, run_tasks: bool = True):
        headers = {"Stripe-Signature": signing.sign(body, SECRET)}
        if not run_tasks:
            return client.post(URL, body, content_type="application/json", headers=headers)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, body, content_type="application/json", headers=headers)

    return _post


def ours(order, **fields) -> dict:
    """The session Stripe returns for one that start() created for ``order``."""
    return {
        **session_json(payment_status="unpaid", amount=to_minor_units(order.total, "PKR")),
        "client_reference_id": order.number,
        "metadata": {"order_number": order.number, "payment_id": "1"},
        **fields,
    }


def start_stripe_payment(order) -> Payment:
    """Pay ``order`` by card through (faked) Stripe: its pending payment names SESSION_ID."""
    responses.post(SESSIONS, json=ours(order))
    payment, _ = start_payment(
        order=order,
        gateway_key="stripe",
        method="card",
        success_url="https://shop.example/ok",
        cancel_url="https://shop.example/no",
    )
    assert payment.external_reference == SESSION_ID
    return payment


# Objects this portal did not create


@pytest.mark.parametrize(
    "marker",
    [
        pytest.param({}, id="no-metadata"),
        pytest.param({"metadata": {"their_order": "A-9"}}, id="someone-elses-metadata"),
        pytest.param(
            {"client_reference_id": "PS-NOT-HERE", "metadata": {"order_number": "PS-NOT-HERE"}},
            id="an-order-number-not-here",  # e.g. staging sharing the Stripe account
        ),
    ],
)
@responses.activate
def test_a_foreign_session_event_is_closed_once_without_retries(post, marker):
    reread = responses.get(
        f"{SESSIONS}/cs_other", json={**session_json("cs_other", payment_status="paid"), **marker}
    )
    body = stripe_event("checkout.session.completed", {"id": "cs_other"})

    assert post(body).status_code == 200  # processed eagerly: a retry would raise here
    assert post(body).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.processed_at is not None
    assert event.error.startswith(NOT_OURS) and "cs_other" in event.error
    assert reread.call_count == 1
    tasks.process_webhook_event.apply(args=[event.pk], throw=True)  # nothing left to retry
    assert not Payment.objects.exists()


@pytest.mark.parametrize("event_type", ["payment_intent.payment_failed", "charge.dispute.created"])
@responses.activate
def test_a_foreign_payment_intent_or_charge_is_closed_too(post, event_type):
    expect_session_lookup(session_json("cs_other"))
    obj = {"id": "pi_1", "object": "payment_intent", "payment_intent": "pi_1"}

    assert post(stripe_event(event_type, obj)).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.error.startswith(NOT_OURS)


@responses.activate
def test_a_foreign_setup_session_is_closed(post):
    setup = {"id": "cs_setup_other", "object": "checkout.session", "mode": "setup"}

    assert post(stripe_event("checkout.session.completed", setup)).status_code == 200

    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.error.startswith(NOT_OURS)
    assert len(responses.calls) == 0


# Our own objects whose payment row lags behind still wait for it


@pytest.mark.parametrize(
    "marker",
    [
        pytest.param("metadata", id="metadata"),
        pytest.param("client_reference_id", id="client-reference-id"),
    ],
)
@responses.activate
def test_our_session_before_its_payment_is_stored_is_retried(post, order, marker):
    # start_payment has committed the payment but not yet stored the session id on it.
    Payment.objects.create(
        order=order, gateway="stripe", amount=order.total, currency="PKR", idempotency_key="k1"
    )
    session = ours(order, payment_status="paid")
    if marker == "client_reference_id":
        session["metadata"] = {}
    else:
        session["client_reference_id"] = None
    responses.get(f"{SESSIONS}/{SESSION_ID}", json=session)

    assert post(stripe_event("checkout.session.completed", {"id": SESSION_ID}), run_tasks=False)
    event = WebhookEvent.objects.get()

    tasks.process_webhook_event.apply(args=[event.pk], throw=True)
    event.refresh_from_db()
    assert event.processed_at is None and event.error.startswith("payment not found yet")
    assert_due_again_in_seconds(event, 5)


@responses.activate
def test_our_setup_session_before_its_reference_is_stored_is_retried(post, customer):
    method = SavedPaymentMethod.objects.create(customer=customer, gateway="stripe")
    setup = {
        "id": "cs_setup_1",
        "object": "checkout.session",
        "mode": "setup",
        "metadata": {"saved_payment_method_id": str(method.pk)},
    }
    post(stripe_event("checkout.session.completed", setup), run_tasks=False)
    event = WebhookEvent.objects.get()

    tasks.process_webhook_event.apply(args=[event.pk], throw=True)
    event.refresh_from_db()
    assert event.processed_at is None and "not found" in event.error
    assert_due_again_in_seconds(event, 5)


# checkout.session.expired


@responses.activate
def test_an_expired_checkout_cancels_the_payment_and_the_order_can_be_paid_again(post, order):
    stripe_payment = start_stripe_payment(order)
    assert order.status == Order.Status.AWAITING_PAYMENT
    reread = responses.get(f"{SESSIONS}/{SESSION_ID}", json=ours(order, status="expired"))
    body = stripe_event("checkout.session.expired", {"id": SESSION_ID, "status": "expired"})

    assert post(body).status_code == 200
    assert post(body).status_code == 200  # Stripe's redelivery

    assert WebhookEvent.objects.get().processed_at is not None
    assert reread.call_count == 1
    stripe_payment.refresh_from_db()
    order.refresh_from_db()
    assert stripe_payment.status == Payment.Status.CANCELLED
    assert order.status == Order.Status.PAYMENT_FAILED and order.status in PAYABLE_STATES
    assert status_context(order)["checkout_expired"] is True
    audited = entries_for(stripe_payment).filter(action="payment.status")
    assert [(e.after, "expired" in e.note) for e in audited] == [({"status": "cancelled"}, True)]
    assert entries_for(order).filter(after={"status": "payment_failed"}).count() == 1

    responses.post(SESSIONS, json=ours(order, id="cs_test_a2"))
    again, _ = start_payment(order=order, gateway_key="stripe", method="card")
    order.refresh_from_db()
    assert again.status == Payment.Status.PENDING
    assert order.status == Order.Status.AWAITING_PAYMENT


@responses.activate
def test_an_expired_superseded_checkout_leaves_the_newer_attempt_alone(post, order):
    stripe_payment = start_stripe_payment(order)
    responses.post(SESSIONS, json=ours(order, id="cs_test_a2"))
    newer, _ = start_payment(order=order, gateway_key="stripe", method="card")
    responses.get(f"{SESSIONS}/{SESSION_ID}", json=ours(order, status="expired"))

    assert post(stripe_event("checkout.session.expired", {"id": SESSION_ID})).status_code == 200

    newer.refresh_from_db()
    stripe_payment.refresh_from_db()
    order.refresh_from_db()
    assert stripe_payment.status == Payment.Status.CANCELLED  # superseded before it expired
    assert newer.status == Payment.Status.PENDING
    assert order.status == Order.Status.AWAITING_PAYMENT


@responses.activate
def test_an_expired_event_for_a_paid_session_changes_nothing(post, order):
    stripe_payment = start_stripe_payment(order)
    responses.get(f"{SESSIONS}/{SESSION_ID}", json=ours(order, payment_status="paid"))
    post(stripe_event("checkout.session.completed", {"id": SESSION_ID}, "evt_paid"))
    responses.get(f"{SESSIONS}/{SESSION_ID}", json=ours(order, status="expired"))

    post(stripe_event("checkout.session.expired", {"id": SESSION_ID}, "evt_expired"))

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 2


def assert_due_again_in_seconds(event, seconds: int) -> None:
    """The event's next try is kept on it (for the dispatcher), not as a broker countdown."""
    wait = (event.next_attempt_at - timezone.now()).total_seconds()
    assert seconds - 2 < wait <= seconds
