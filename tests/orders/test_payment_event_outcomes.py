"""Late, duplicate and odd payment events, through ``POST /webhooks/test/`` with valid signatures:
each ends applied, ignored with a reason, or failed with a reason, and the money is never lost."""

import json
from decimal import Decimal

import pytest

from core import signing
from core.money import to_minor_units
from orders import tasks
from orders.admin.order_views import order_timeline
from orders.models import Order, Payment, Refund, Sim, WebhookEvent
from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
from orders.services import payment_events
from orders.services.errors import OrderError
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from orders.services.refunds import refund_order
from plans.models import SandboxOrder
from plans.providers.sandbox import SandboxAdapter

pytestmark = pytest.mark.django_db
URL = "/webhooks/test/"
Outcome = WebhookEvent.Outcome


@pytest.fixture
def payment(order):
    payment, _ = start_payment(order=order, gateway_key="test", method="card")
    return payment


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST a signed body to the webhook endpoint and run what it queues; returns the response."""

    def _send(body: bytes):
        headers = {SIGNATURE_HEADER: signing.sign(body, signing_secret())}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, body, content_type="application/json", headers=headers)
        assert response.status_code == 200, response.content
        return response

    return _send


def paid(payment, **fields) -> bytes:
    return build_event("checkout.session.completed", payment, payment_status="paid", **fields)


def refunded(payment, *refunds: tuple[str, str]) -> bytes:
    items = [
        {"id": ref, "amount": to_minor_units(Decimal(amount), "PKR")} for ref, amount in refunds
    ]
    return build_event("charge.refunded", payment, refunds=items)


def last_event() -> WebhookEvent:
    return WebhookEvent.objects.order_by("-pk").first()


def actions(order: Order) -> list[str]:
    return list(order.audit_entries().values_list("action", flat=True))


def test_a_partial_refund_before_the_success_event_still_delivers_the_order(payment, send):
    send(refunded(payment, ("re_early", "100")))
    payment.order.refresh_from_db()
    assert payment.order.status == Order.Status.FULFILLED
    assert payment.order.issued_sims.count() == 1
    send(paid(payment))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Refund.objects.get().amount == Decimal("100")
    assert last_event().outcome == Outcome.IGNORED  # the success was already recorded


def test_money_for_a_superseded_attempt_pays_the_order_while_it_is_unpaid(order, payment, send):
    newer, _ = start_payment(order=order, gateway_key="test", method="card")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED

    send(paid(payment))  # the customer paid in the old checkout tab

    order.refresh_from_db()
    payment.refresh_from_db()
    newer.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.FULFILLED
    assert newer.status == Payment.Status.CANCELLED  # its checkout can no longer be paid
    assert last_event().outcome == Outcome.APPLIED


def test_a_superseded_checkout_page_can_no_longer_be_paid(client, order, payment):
    start_payment(order=order, gateway_key="test", method="card")
    response = client.post(f"/pay/test/{payment.external_reference}/", {"action": "pay"})
    assert response.status_code == 409
    assert not WebhookEvent.objects.exists()


def test_two_paid_sessions_make_one_sim_and_the_second_is_refunded(order, payment, send):
    newer, _ = start_payment(order=order, gateway_key="test", method="card")
    send(paid(newer))
    send(paid(payment))  # the old tab was paid too

    order.refresh_from_db()
    payment.refresh_from_db()
    newer.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.issued_sims.count() == 1 and SandboxOrder.objects.count() == 1
    assert newer.status == Payment.Status.SUCCEEDED
    assert payment.status == Payment.Status.REFUNDED
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == payment.amount and refund.status == Refund.Status.SUCCEEDED
    assert "payment.surplus" in actions(order)
    assert any("arrived for an order already paid" in e["detail"] for e in order_timeline(order))
    assert last_event().outcome == Outcome.APPLIED


def test_money_for_a_cancelled_order_is_recorded_and_refunded(order, payment, send):
    from orders.services.lifecycle import cancel_order

    cancel_order(order=order, reason="changed my mind")
    send(paid(payment))
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert payment.status == Payment.Status.REFUNDED
    assert not SandboxOrder.objects.exists()


def test_a_refund_while_provisioning_ends_refunded_with_the_esim_cancelled(
    payment, send, client, monkeypatch
):
    issue = SandboxAdapter.issue_esim

    def refund_arrives_meanwhile(self, **kwargs):
        profile = issue(self, **kwargs)
        body = refunded(payment, ("re_mid", str(payment.amount)))
        headers = {SIGNATURE_HEADER: signing.sign(body, signing_secret())}
        response = client.post(URL, body, content_type="application/json", headers=headers)
        assert response.status_code == 200
        tasks.process_webhook_event.apply(args=[last_event().pk], throw=True)
        return profile

    monkeypatch.setattr(SandboxAdapter, "issue_esim", refund_arrives_meanwhile)
    send(paid(payment))

    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.REFUNDED
    refund_event = WebhookEvent.objects.get(event_type="charge.refunded")
    assert refund_event.outcome == Outcome.APPLIED and refund_event.attempts == 1
    sim = order.issued_sims.get()
    assert sim.status == Sim.Status.CANCELLED
    assert SandboxOrder.objects.get(iccid=sim.iccid).cancelled_at is not None


def test_a_fully_refunded_esim_is_cancelled_upstream_and_marked(payment, send):
    send(paid(payment))
    order = Order.objects.get(pk=payment.order_id)
    sim = order.issued_sims.get()
    send(refunded(payment, ("re_all", str(payment.amount))))
    order.refresh_from_db()
    sim.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert sim.status == Sim.Status.CANCELLED
    assert SandboxOrder.objects.get(iccid=sim.iccid).cancelled_at is not None


def test_a_staff_refund_of_a_ready_esim_cancels_it(
    payment, send, django_capture_on_commit_callbacks
):
    send(paid(payment))
    order = Order.objects.get(pk=payment.order_id)
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(order=order, reason="customer asked")
    assert order.issued_sims.get().status == Sim.Status.CANCELLED


def test_a_partial_refund_keeps_the_esim(payment, send):
    send(paid(payment))
    send(refunded(payment, ("re_part", "1")))
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == Order.Status.FULFILLED
    assert order.issued_sims.get().status == Sim.Status.ISSUED


def test_an_amount_mismatch_is_failed_once_with_a_reason_on_the_order(payment, send):
    short = payment.amount - Decimal("0.01")
    body = paid(payment, amount_total=to_minor_units(short, "PKR"))
    send(body)
    send(body)  # delivered again: recorded once
    event = WebhookEvent.objects.get()
    payment.refresh_from_db()
    assert event.outcome == Outcome.FAILED and event.attempts == 1
    assert f"paid PKR {short:.2f}, expected PKR {payment.amount:.2f}" in event.error
    assert payment.status == Payment.Status.PENDING
    assert "payment_event.failed" in actions(payment.order)
    assert event.pk not in payment_events.due_events(
        now=event.received_at.replace(year=2100)
    ).values_list("pk", flat=True)


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"id": "evt_no_data", "type": "checkout.session.completed"}, "no data object"),
        ({"id": {"nested": 1}, "type": "x", "data": {"object": {}}}, "id is not a short string"),
        ({"id": "e" * 1000, "type": "x", "data": {"object": {}}}, "id is not a short string"),
        ({"id": 42, "type": "x", "data": {"object": {}}}, "id is not a short string"),
        ({"id": "evt_t", "type": ["x"], "data": {"object": {}}}, "type is not a short string"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_a_signed_event_with_a_bad_envelope_is_closed_once_never_a_5xx(
    send, payment, envelope, reason
):
    body = json.dumps(envelope).encode()
    send(body)
    send(body)
    event = WebhookEvent.objects.get()
    assert event.outcome == Outcome.FAILED and event.processed_at
    assert reason in event.error
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.parametrize(
    "session",
    [
        {"id": {"not": "a string"}, "amount_total": 100, "currency": "pkr"},
        {"id": "cs_x", "amount_total": "lots", "currency": "pkr"},
        {"id": "cs_x", "amount_total": 100, "currency": "zzz"},
        {"id": "cs_x" * 100, "amount_total": 100, "currency": "pkr"},
        {"id": {"not": "a string"}, "mode": "setup"},  # a card saved for auto-renew
    ],
)
def test_a_signed_event_with_a_bad_object_is_closed_once(send, session):
    body = json.dumps(
        {"id": "evt_bad", "type": "checkout.session.completed", "data": {"object": session}}
    ).encode()
    send(body)
    event = WebhookEvent.objects.get()
    assert event.outcome == Outcome.FAILED and event.attempts == 1
    assert "malformed" in event.error


def test_a_nul_character_is_stored_or_closed_never_a_5xx(send):
    send(b'{"id": "evt_nul", "type": "x\\u0000", "data": {"object": {}}}')
    assert WebhookEvent.objects.get().outcome == Outcome.FAILED


def test_reported_refunds_never_add_up_to_more_than_was_paid(payment, send):
    send(paid(payment))
    assert payment.amount < 800
    send(refunded(payment, ("re_a", "400")))
    send(refunded(payment, ("re_a", "400"), ("re_b", "400")))
    payment.refresh_from_db()
    total = sum(r.amount for r in payment.refunds.filter(status=Refund.Status.SUCCEEDED))
    assert total == payment.amount
    assert payment.status == Payment.Status.REFUNDED
    assert "more than was left to refund" in last_event().error
    assert "refund.capped" in actions(payment.order)


def test_a_refund_finer_than_a_cent_is_refused(payment, send):
    send(paid(payment))
    with pytest.raises(OrderError) as refused:
        refund_order(order=payment.order, amount=Decimal("1.005"))
    assert refused.value.code == "amount_invalid"
    assert not Refund.objects.exists()


def test_a_refund_id_held_by_another_payment_fails_the_event_and_changes_nothing(
    customer, esim_plan, payment, send
):
    other_order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    other, _ = start_payment(order=other_order, gateway_key="test", method="card")
    send(paid(other))
    send(refunded(other, ("re_shared", "100")))

    send(refunded(payment, ("re_shared", "100")))

    payment.refresh_from_db()
    event = last_event()
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.AWAITING_PAYMENT
    assert event.outcome == Outcome.FAILED and "re_shared" in event.error
    assert Refund.objects.get(external_reference="re_shared").payment == other


def test_an_event_that_keeps_failing_is_tried_a_bounded_number_of_times(
    payment, send, monkeypatch, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(payment_events, "apply_update", broken)
    body = paid(payment)
    headers = {SIGNATURE_HEADER: signing.sign(body, signing_secret())}
    from django.test import Client

    Client().post(URL, body, content_type="application/json", headers=headers)
    event = WebhookEvent.objects.get()
    later = event.received_at.replace(year=2100)
    errors = 0
    for _ in range(10):
        for event_id in list(payment_events.due_events(now=later).values_list("pk", flat=True)):
            try:
                payment_events.process_webhook_event(event_id)
            except RuntimeError:
                errors += 1
    event.refresh_from_db()
    assert event.attempts == 3 and errors == 2
    assert event.outcome == Outcome.FAILED and "gave up after 3 attempts" in event.error
    assert not payment_events.due_events(now=later).exists()


def test_a_dispute_and_an_unknown_type_are_closed_with_their_outcome(payment, send):
    send(paid(payment))
    send(build_event("charge.dispute.created", payment))
    assert last_event().outcome == Outcome.APPLIED
    send(build_event("customer.updated", payment))
    event = last_event()
    assert event.outcome == Outcome.IGNORED and event.error


def test_staff_find_failed_events_and_their_reason_in_the_admin(payment, send):
    from django.test import Client

    from tests.staff import login_staff
    from tests.worlds import build_staff

    send(paid(payment, amount_total=1))
    staff = Client()
    login_staff(staff, build_staff())
    body = staff.get("/admin/orders/webhookevent/", {"outcome": "failed"}).content.decode()
    assert "paid PKR 0.01, expected PKR" in body
    assert (
        "paid PKR 0.01"
        not in staff.get("/admin/orders/webhookevent/", {"outcome": "applied"}).content.decode()
    )
    order_page = staff.get(f"/admin/orders/order/{payment.order_id}/change/").content.decode()
    assert "paid PKR 0.01" in order_page
