"""A superseded Stripe Checkout Session is expired at Stripe (its HTTP faked), and money that
arrives for it anyway is recorded and refunded."""

import pytest
import responses

from core import signing
from core.money import to_minor_units
from orders.models import Order, Payment, Refund
from orders.services.payment_events import receive_webhook
from orders.services.payments import start_payment
from tests.orders.test_stripe_gateway import API, SECRET, SESSIONS, session_json, signed_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]
OLD, NEW = "cs_test_old", "cs_test_new"


def session(order, session_id, payment_status="unpaid", status=None):
    data = session_json(
        session_id=session_id,
        payment_status=payment_status,
        amount=to_minor_units(order.total, "PKR"),
    )
    data["metadata"] = {"order_number": order.number}
    if status:
        data["status"] = status
    return data


def start(order, session_id, django_capture_on_commit_callbacks):
    responses.post(SESSIONS, json=session(order, session_id))
    with django_capture_on_commit_callbacks(execute=True):
        payment, _ = start_payment(order=order, gateway_key="stripe", method="card")
    return payment


@responses.activate
def test_a_new_attempt_expires_the_open_session_at_stripe(
    order, django_capture_on_commit_callbacks
):
    start(order, OLD, django_capture_on_commit_callbacks)
    responses.get(f"{SESSIONS}/{OLD}", json=session(order, OLD, status="open"))
    expired = responses.post(f"{SESSIONS}/{OLD}/expire", json=session(order, OLD, status="expired"))

    start(order, NEW, django_capture_on_commit_callbacks)

    assert expired.call_count == 1
    old = Payment.objects.get(external_reference=OLD)
    assert old.status == Payment.Status.CANCELLED


@responses.activate
def test_a_session_paid_meanwhile_is_not_expired_and_its_money_is_refunded(
    order, django_capture_on_commit_callbacks
):
    start(order, OLD, django_capture_on_commit_callbacks)
    for session_id in (OLD, NEW):
        responses.get(
            f"{SESSIONS}/{session_id}", json=session(order, session_id, payment_status="paid")
        )
    expired = responses.post(f"{SESSIONS}/{OLD}/expire", status=400, json={"error": {}})
    refunded = responses.post(
        f"{API}/refunds",
        json={
            "id": "re_1",
            "object": "refund",
            "amount": to_minor_units(order.total, "PKR"),
            "currency": "pkr",
            "status": "succeeded",
        },
    )
    start(order, NEW, django_capture_on_commit_callbacks)
    assert expired.call_count == 0  # the customer paid it a moment ago

    for session_id in (NEW, OLD):  # both tabs were paid; the new one's event comes first
        body = signed_body(id=f"evt_{session_id}", data={"object": {"id": session_id}})
        with django_capture_on_commit_callbacks(execute=True):
            receive_webhook(
                source="stripe", body=body, headers={"Stripe-Signature": signing.sign(body, SECRET)}
            )

    order.refresh_from_db()
    old = Payment.objects.get(external_reference=OLD)
    assert order.status == Order.Status.FULFILLED and order.issued_sims.count() == 1
    assert old.status == Payment.Status.REFUNDED
    assert Refund.objects.get(payment=old).external_reference == "re_1"
    assert refunded.call_count == 1
