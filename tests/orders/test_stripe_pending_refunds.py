"""Refunds Stripe answers ``pending`` (Alipay, WeChat Pay, some cards), settled by its webhooks.

Through the real entry points: the admin refund action and form, then signed Stripe events
posted to the webhook URL. Stripe's HTTP is faked by ``responses``.
"""

import json
from decimal import Decimal

import pytest
import responses
from django.contrib.messages import get_messages
from django.urls import reverse

from core import signing
from orders.models import Order, Payment, Refund, WebhookEvent
from tests.factories import OrderFactory, PaymentFactory, RefundFactory
from tests.orders.test_stripe_gateway import (
    API,
    SECRET,
    SESSION_ID,
    SESSIONS,
    refund_json,
    session_json,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]
WEBHOOK_URL = "/webhooks/stripe/"
CHANGELIST = reverse("admin:orders_order_changelist")
PENDING_ACTION_MESSAGE = (
    "refund pending at the payment gateway; the order is marked refunded once the money is returned"
)


@pytest.fixture
def payment():
    order = OrderFactory(status=Order.Status.FULFILLED)
    return PaymentFactory(
        order=order,
        gateway="stripe",
        method="alipay",
        status=Payment.Status.SUCCEEDED,
        external_reference=SESSION_ID,
    )


@pytest.fixture
def post_event(client, django_capture_on_commit_callbacks):
    """POST a Stripe event about a refund to the webhook URL, signed (or not) like Stripe."""

    def _post(event_id: str, refund_id: str, *, event_type="charge.refund.updated", secret=SECRET):
        body = json.dumps(
            {
                "id": event_id,
                "object": "event",
                "type": event_type,
                # The event's copy is stale: the gateway re-reads the refund from Stripe.
                "data": {"object": refund_json(refund_id, 1, status="pending")},
            }
        ).encode()
        headers = {"Stripe-Signature": signing.sign(body, secret)}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(WEBHOOK_URL, body, content_type="application/json", headers=headers)

    return _post


def stripe_answers_refund(refund_id: str, amount: int, status: str, **fields):
    """Stripe's reply to the refund request (after the session's payment intent is read)."""
    responses.get(f"{SESSIONS}/{SESSION_ID}", json={**session_json(), "payment_intent": "pi_1"})
    responses.post(
        f"{API}/refunds", json={**refund_json(refund_id, amount, status=status), **fields}
    )


def stripe_now_says(refund_id: str, amount: int, status: str, **fields):
    """What Stripe answers when the refund is re-read after an event."""
    return responses.get(
        f"{API}/refunds/{refund_id}",
        json={**refund_json(refund_id, amount, status=status), **fields},
    )


def run_refund_in_full(client, order) -> list[str]:
    response = client.post(CHANGELIST, {"action": "refund_in_full", "_selected_action": [order.pk]})
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def refresh(*rows):
    for row in rows:
        row.refresh_from_db()


@responses.activate
def test_pending_refund_waits_then_succeeds_by_webhook_once(
    client, signed_in_administrator, payment, post_event
):
    order = payment.order
    stripe_answers_refund("re_1", 59900, "pending")

    messages = run_refund_in_full(client, order)

    refund = payment.refunds.get()
    refresh(order, payment)
    assert (refund.status, refund.external_reference) == (Refund.Status.PENDING, "re_1")
    assert order.status == Order.Status.FULFILLED
    assert payment.status == Payment.Status.SUCCEEDED
    assert f"{order.number}: {PENDING_ACTION_MESSAGE}" in messages
    assert f"{order.number}: refunded in full" not in messages

    reread = stripe_now_says("re_1", 59900, "succeeded")
    assert post_event("evt_r1", "re_1").status_code == 200

    refresh(refund, order, payment)
    assert refund.status == Refund.Status.SUCCEEDED
    assert payment.status == Payment.Status.REFUNDED
    assert order.status == Order.Status.REFUNDED
    assert order.audit_entries().filter(after={"status": "refunded"}, actor_label="stripe").exists()
    refund_audit = refund_entries(refund)
    assert {"refund.pending", "refund.status"} <= {entry.action for entry in refund_audit}
    event = WebhookEvent.objects.get(event_id="evt_r1")
    assert event.processed_at and not event.error
    audit_rows = order.audit_entries().count() + refund_entries(refund).count()

    # The same event again is recorded once and applied once.
    assert post_event("evt_r1", "re_1").status_code == 200
    assert WebhookEvent.objects.filter(event_id="evt_r1").count() == 1
    assert reread.call_count == 1
    # A later update for a refund already final changes nothing.
    stripe_now_says("re_1", 59900, "failed")
    assert post_event("evt_r2", "re_1").status_code == 200
    refresh(refund, order)
    assert refund.status == Refund.Status.SUCCEEDED and order.status == Order.Status.REFUNDED
    assert order.audit_entries().count() + refund_entries(refund).count() == audit_rows
    assert WebhookEvent.objects.get(event_id="evt_r2").processed_at


def refund_entries(refund):
    from core.audit import entries_for

    return entries_for(refund)


@responses.activate
def test_partial_pending_refund_that_fails_leaves_the_order(
    client, signed_in_administrator, payment, post_event
):
    order = payment.order
    stripe_answers_refund("re_2", 10000, "pending")

    response = client.post(
        reverse("admin:orders_order_refund", args=[order.pk]),
        {"amount": "100.00", "reason": "goodwill"},
    )

    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "pending" in message and order.number in message
    refund = payment.refunds.get()
    assert (refund.status, refund.external_reference) == (Refund.Status.PENDING, "re_2")

    stripe_now_says("re_2", 10000, "failed", failure_reason="expired_or_canceled_card")
    assert post_event("evt_f1", "re_2", event_type="refund.failed").status_code == 200

    refresh(refund, order, payment)
    assert refund.status == Refund.Status.FAILED
    assert order.status == Order.Status.FULFILLED
    assert payment.status == Payment.Status.SUCCEEDED
    failed = order.audit_entries().get(action="refund.failed")
    assert failed.actor_label == "stripe" and "expired_or_canceled_card" in failed.note
    # Staff see it in the order's timeline.
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "expired_or_canceled_card" in page


@responses.activate
@pytest.mark.parametrize("stripe_status", ["failed", "canceled"])
def test_a_refund_stripe_refuses_at_once_is_failed_and_shown(
    client, signed_in_administrator, payment, stripe_status
):
    order = payment.order
    stripe_answers_refund("re_3", 10000, stripe_status, failure_reason="unknown")

    response = client.post(
        reverse("admin:orders_order_refund", args=[order.pk]),
        {"amount": "100.00", "reason": "goodwill"},
    )

    assert response.status_code == 200  # the form again, with the reason
    errors = response.context["form"].non_field_errors()
    assert any("nothing was refunded" in error for error in errors)
    refund = payment.refunds.get()
    assert (refund.status, refund.external_reference) == (Refund.Status.FAILED, "re_3")
    refresh(order, payment)
    assert order.status == Order.Status.FULFILLED
    assert payment.status == Payment.Status.SUCCEEDED


@responses.activate
def test_a_refund_stripe_refuses_at_once_is_reported_by_the_action(
    client, signed_in_administrator, payment
):
    stripe_answers_refund("re_4", 59900, "failed")

    messages = run_refund_in_full(client, payment.order)

    assert any(
        m.startswith(f"{payment.order.number}: The gateway refused the refund") for m in messages
    )
    assert payment.refunds.get().status == Refund.Status.FAILED
    payment.order.refresh_from_db()
    assert payment.order.status == Order.Status.FULFILLED


@responses.activate
def test_an_update_for_an_unknown_refund_is_recorded_and_changes_nothing(payment, post_event):
    pending = RefundFactory(
        payment=payment, amount=Decimal("100"), currency="PKR", external_reference="re_ours"
    )
    stripe_now_says("re_elsewhere", 10000, "succeeded")

    assert post_event("evt_u1", "re_elsewhere").status_code == 200

    event = WebhookEvent.objects.get(event_id="evt_u1")
    assert event.processed_at and not event.error
    refresh(pending, payment)
    assert pending.status == Refund.Status.PENDING
    assert payment.status == Payment.Status.SUCCEEDED


@responses.activate
def test_an_update_before_the_refund_call_returned_finds_it_by_metadata(payment, post_event):
    # Stripe's answer to the refund request is not saved yet: no reference on our refund.
    refund = RefundFactory(payment=payment, amount=Decimal("599"), currency="PKR")
    metadata = {"refund_id": str(refund.pk), "payment_id": str(payment.pk)}
    stripe_now_says("re_5", 59900, "succeeded", metadata=metadata)

    assert post_event("evt_m1", "re_5").status_code == 200

    refresh(refund, payment)
    assert (refund.status, refund.external_reference) == (Refund.Status.SUCCEEDED, "re_5")
    assert payment.status == Payment.Status.REFUNDED


@responses.activate
def test_a_badly_signed_refund_update_is_refused(payment, post_event):
    refund = RefundFactory(
        payment=payment, amount=Decimal("599"), currency="PKR", external_reference="re_6"
    )

    response = post_event("evt_b1", "re_6", secret="whsec_wrong")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert len(responses.calls) == 0
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
