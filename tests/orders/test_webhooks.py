"""The webhook endpoint: signatures, duplicates, and events that arrive out of order."""

import json
import time

import pytest

from core import signing
from core.money import to_minor_units
from orders.models import Order, Payment, Refund, WebhookEvent
from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
from orders.services.payment_events import PaymentNotFoundYet, process_webhook_event
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import SandboxOrder

pytestmark = pytest.mark.django_db
URL = "/webhooks/test/"


@pytest.fixture
def payment(customer, esim_plan):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    payment, _ = start_payment(order=order, gateway_key="test", method="card")
    return payment


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def _post(body: bytes, signature: str | None = None, secret: str | None = None):
        headers = {}
        if signature is not None or secret is not None:
            headers[SIGNATURE_HEADER] = signature or signing.sign(body, secret)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, body, content_type="application/json", headers=headers)

    return _post


def paid_event(payment) -> bytes:
    return build_event("checkout.session.completed", payment, payment_status="paid")


def test_same_event_twice_is_recorded_and_acted_on_once(payment, post):
    body = paid_event(payment)
    first = post(body, secret=signing_secret())
    second = post(body, secret=signing_secret())
    assert first.status_code == second.status_code == 200
    assert WebhookEvent.objects.count() == 1
    payment.order.refresh_from_db()
    assert payment.order.status == Order.Status.FULFILLED
    assert SandboxOrder.objects.count() == 1 and payment.order.issued_sims.count() == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing header
        "t=123",  # malformed
        "garbage",
        "wrong-secret",
        "old",
        "future",
    ],
)
def test_bad_signatures_are_refused_and_change_nothing(payment, post, signature):
    body = paid_event(payment)
    secret = signing_secret()
    header = {
        "wrong-secret": signing.sign(body, "not-the-secret"),
        "old": signing.sign(body, secret, int(time.time()) - 301),
        "future": signing.sign(body, secret, int(time.time()) + 301),
    }.get(signature, signature)
    response = post(body, signature=header) if header else post(body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_tampered_body_is_refused(payment, post):
    body = paid_event(payment)
    header = signing.sign(body, signing_secret())
    tampered = body.replace(b'"paid"', b'"unpaid"')
    assert post(tampered, signature=header).status_code == 400


def test_only_post_and_known_sources(client):
    assert client.get(URL).status_code == 405
    assert (
        client.post("/webhooks/paypal/", b"{}", content_type="application/json").status_code == 404
    )


def test_event_before_the_payment_row_waits_for_it(customer, esim_plan, client):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    future = Payment(
        order=order,
        amount=order.total,
        currency="PKR",
        external_reference="cs_test_later",
        idempotency_key="x",
    )
    body = paid_event(future)
    response = client.post(
        URL,
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signing.sign(body, signing_secret())},
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    with pytest.raises(PaymentNotFoundYet):
        process_webhook_event(event.pk)
    event.refresh_from_db()
    assert event.processed_at is None and "not found" in event.error

    payment, _ = start_payment(order=order, gateway_key="test", method="card")
    Payment.objects.filter(pk=payment.pk).update(external_reference="cs_test_later")
    process_webhook_event(event.pk)
    event.refresh_from_db()
    order.refresh_from_db()
    assert event.processed_at and order.status == Order.Status.PAID


def test_unknown_payment_raises_for_a_retry(customer, esim_plan):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    ghost = Payment(order=order, amount=order.total, currency="PKR", external_reference="cs_x")
    event = WebhookEvent.objects.create(
        source="test",
        event_id="evt_1",
        event_type="checkout.session.completed",
        payload=json.loads(paid_event(ghost)),
    )
    with pytest.raises(PaymentNotFoundYet):
        process_webhook_event(event.pk)


def test_refund_before_success_ends_refunded_and_never_provisions(payment, post):
    refunded = build_event(
        "charge.refunded",
        payment,
        refunds=[{"id": "re_1", "amount": to_minor_units(payment.amount, "PKR")}],
    )
    assert post(refunded, secret=signing_secret()).status_code == 200
    assert post(paid_event(payment), secret=signing_secret()).status_code == 200
    payment.refresh_from_db()
    payment.order.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.order.status == Order.Status.REFUNDED
    assert Refund.objects.get().external_reference == "re_1"
    assert not SandboxOrder.objects.exists()


def test_dispute_is_recorded_on_the_order(payment, post):
    post(paid_event(payment), secret=signing_secret())
    post(build_event("charge.dispute.created", payment), secret=signing_secret())
    assert payment.order.audit_entries().filter(action="payment.disputed").exists()


@pytest.mark.parametrize(("transient", "retried"), [(True, True), (False, False)])
def test_gateway_errors_while_re_reading(payment, monkeypatch, transient, retried):
    from orders import tasks
    from orders.payments.base import GatewayError
    from orders.payments.test import TestGateway

    def unavailable(self, event):
        raise GatewayError("stripe said no", transient=transient)

    monkeypatch.setattr(TestGateway, "read_event", unavailable)
    event = WebhookEvent.objects.create(
        source="test",
        event_id="evt_e",
        event_type="checkout.session.completed",
        payload=json.loads(paid_event(payment)),
    )
    if retried:
        tasks.process_webhook_event.apply(args=[event.pk], throw=True)
        event.refresh_from_db()
        assert event.outcome == WebhookEvent.Outcome.PENDING and event.next_attempt_at
        assert "stripe said no" in event.error
    else:
        tasks.process_webhook_event.apply(args=[event.pk], throw=True)
        event.refresh_from_db()
        assert event.outcome == WebhookEvent.Outcome.FAILED and event.processed_at
        assert "stripe said no" in event.error
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
