"""Order operations through the admin: filters, search, actions, partial refund, timeline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import SUPPORT, sync_staff_roles
from orders.models import Gateway, Order, Payment, Refund, WebhookEvent
from plans.models import ProviderCall
from tests.factories import (
    OrderFactory,
    PaymentFactory,
    ProviderFactory,
    ProvisioningAttemptFactory,
    SimFactory,
)
from tests.staff import login_staff
from tests.worlds import STAFF_EMAIL

CHANGELIST = reverse("admin:orders_order_changelist")
Status = Order.Status


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def refund_url(order):
    return reverse("admin:orders_order_refund", args=[order.pk])


def run_action(client, action, *orders):
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders]}
    )
    assert response.status_code == 302
    for order in orders:
        order.refresh_from_db()
    return [str(m) for m in get_messages(response.wsgi_request)]


def listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {order.pk for order in response.context["cl"].result_list}


def test_retry_provisioning_action(
    client, signed_in_administrator, django_capture_on_commit_callbacks
):
    stuck = OrderFactory(status=Status.NEEDS_ATTENTION)
    ready = OrderFactory(status=Status.FULFILLED)
    with django_capture_on_commit_callbacks() as callbacks:
        messages = run_action(client, "retry_provisioning", stuck, ready)
    assert stuck.status == Status.PROVISIONING
    assert ready.status == Status.FULFILLED
    assert len(callbacks) == 1  # the provisioning task, queued after commit
    assert f"{stuck.number}: provisioning retried" in messages
    assert f"{ready.number}: only orders that need attention are retried." in messages
    entry = stuck.audit_entries().first()
    assert entry.actor == signed_in_administrator and entry.after == {"status": Status.PROVISIONING}


def test_cancel_unpaid_action(client, signed_in_administrator):
    unpaid = OrderFactory(status=Status.AWAITING_PAYMENT)
    pending = PaymentFactory(order=unpaid)
    paid = OrderFactory(status=Status.FULFILLED)
    messages = run_action(client, "cancel_unpaid", unpaid, paid)
    pending.refresh_from_db()
    assert unpaid.status == Status.CANCELLED and pending.status == Payment.Status.CANCELLED
    assert paid.status == Status.FULFILLED
    assert f"{unpaid.number}: cancelled" in messages
    assert f"{paid.number}: A paid order is refunded, not cancelled." in messages


def test_confirm_manual_payment_action(client, signed_in_administrator):
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    payment = PaymentFactory(order=order, gateway=Gateway.MANUAL, customer_reference="JC-1")
    card = OrderFactory(status=Status.AWAITING_PAYMENT)
    PaymentFactory(order=card, gateway=Gateway.TEST)
    messages = run_action(client, "confirm_manual_payment", order, card)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and order.status == Status.PAID
    assert card.status == Status.AWAITING_PAYMENT
    assert f"{order.number}: manual payment confirmed" in messages
    assert f"{card.number}: no pending manual payment." in messages
    assert (
        order.audit_entries()
        .filter(actor=signed_in_administrator, after={"status": "paid"})
        .exists()
    )


def test_refund_in_full_action(client, signed_in_administrator):
    order = OrderFactory(status=Status.FULFILLED)
    payment = PaymentFactory(order=order, status=Payment.Status.SUCCEEDED)
    unpaid = OrderFactory(status=Status.CREATED)
    messages = run_action(client, "refund_in_full", order, unpaid)
    payment.refresh_from_db()
    assert order.status == Status.REFUNDED and payment.status == Payment.Status.REFUNDED
    refund = payment.refunds.get()
    assert refund.amount == Decimal("599") and refund.created_by == signed_in_administrator
    assert unpaid.status == Status.CREATED
    assert f"{order.number}: refunded in full" in messages
    assert f"{unpaid.number}: This order has no payment that can be refunded." in messages


def test_partial_refund_form(client, signed_in_administrator):
    order = OrderFactory(status=Status.FULFILLED)
    payment = PaymentFactory(order=order, status=Payment.Status.SUCCEEDED)
    assert "Refund…" in client.get(change_url(order)).content.decode()
    assert client.get(refund_url(order)).status_code == 200

    response = client.post(refund_url(order), {"amount": "100.00", "reason": "goodwill"})
    assert response.status_code == 302 and response.url == change_url(order)
    refund = payment.refunds.get()
    assert (refund.amount, refund.reason, refund.status) == (
        Decimal("100"),
        "goodwill",
        "succeeded",
    )
    assert refund.created_by == signed_in_administrator
    order.refresh_from_db()
    assert order.status == Status.FULFILLED  # part refunded only


@pytest.mark.parametrize("amount", ["1000", "0", "-5", "abc"])
def test_partial_refund_bad_amount_writes_nothing(client, signed_in_administrator, amount):
    order = OrderFactory(status=Status.FULFILLED)
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED)
    response = client.post(refund_url(order), {"amount": amount, "reason": "oops"})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Refund.objects.filter(payment__order=order).exists()
    order.refresh_from_db()
    assert order.status == Status.FULFILLED


def test_support_may_not_run_actions_or_refund(client, db):
    sync_staff_roles()
    support = User.objects.create_user(email="support@paksim.example", password="x", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    login_staff(client, support)
    order = OrderFactory(status=Status.FULFILLED)
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED)

    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "refund_in_full" not in response.content.decode()
    client.post(CHANGELIST, {"action": "refund_in_full", "_selected_action": [order.pk]})
    assert client.get(refund_url(order)).status_code == 403
    assert client.post(refund_url(order), {"amount": "1", "reason": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.FULFILLED
    assert not Refund.objects.exists()


def test_timeline_shows_status_changes_attempts_payments_and_webhooks(
    client, signed_in_administrator
):
    order = OrderFactory(status=Status.NEEDS_ATTENTION)
    ProvisioningAttemptFactory(
        order=order,
        number=1,
        outcome="permanent_error",
        request_summary="plan=jazz-week",
        error="upstream said no",
    )
    PaymentFactory(
        order=order, status=Payment.Status.SUCCEEDED, external_reference="cs_test_timeline"
    )
    WebhookEvent.objects.create(
        source="test",
        event_id="evt_1",
        event_type="checkout.session.completed",
        payload={"data": {"object": {"id": "cs_test_timeline"}}},
    )
    WebhookEvent.objects.create(
        source="test",
        event_id="evt_2",
        event_type="checkout.session.completed",
        payload={"data": {"object": {"id": "cs_someone_else"}}},
    )
    run_action(client, "retry_provisioning", order)

    response = client.get(change_url(order))
    assert response.status_code == 200
    timeline = response.context["order_timeline"]
    kinds = [str(e["kind"]) for e in timeline]
    assert kinds == ["Provisioning", "Payment", "Webhook", "Status"]  # oldest first
    body = response.content.decode()
    assert "needs_attention → provisioning" in body and STAFF_EMAIL in body
    assert "Attempt 1" in body and "upstream said no" in body and "plan=jazz-week" in body
    assert "cs_test_timeline" in body and "evt_2" not in str(timeline)


def provider_call(reference, at, **fields):
    defaults = {
        "provider": ProviderFactory(name="eSIM Access", adapter="esimaccess"),
        "operation": "esim.query",
        "method": "POST",
        "path": "/api/v1/open/esim/query",
        "status_code": 200,
        "outcome": ProviderCall.Outcome.OK,
        "latency_ms": 120,
    }
    return ProviderCall.objects.create(reference=reference, started_at=at, **(defaults | fields))


def test_timeline_shows_the_orders_upstream_calls(client, signed_in_administrator):
    order = OrderFactory(status=Status.NEEDS_ATTENTION)
    other = OrderFactory(status=Status.FULFILLED)
    reference = order.provider_reference
    start = timezone.now() - timedelta(minutes=5)
    provider_call(
        reference,
        start,
        operation="esim.order",
        path="/api/v1/open/esim/order",
        status_code=None,
        outcome=ProviderCall.Outcome.TRANSIENT,
        latency_ms=30001,
        error="esim.order: no answer within 30 s",
    )
    provider_call(reference, start + timedelta(seconds=40), latency_ms=187)
    provider_call(  # the second eSIM of the order: "<reference>-2"
        f"{reference}-2",
        start + timedelta(seconds=50),
        operation="esim.cancel",
        path="/api/v1/open/esim/cancel",
        status_code=400,
        outcome=ProviderCall.Outcome.PERMANENT,
        latency_ms=95,
        error="esim.cancel: HTTP 400: profile in use",
    )
    provider_call(
        other.provider_reference,
        start + timedelta(seconds=20),
        operation="topup",
        method="GET",
        path="/topups/reports/transactions",
        latency_ms=4242,
        error="find-topup: someone else's call",
    )
    provider_call(f"{reference}9", start + timedelta(seconds=30), operation="not.this.order")

    response = client.get(change_url(order))

    assert response.status_code == 200
    upstream = [
        (str(e["title"]), str(e["detail"]))
        for e in response.context["order_timeline"]
        if str(e["kind"]) == "Upstream call"
    ]
    assert upstream == [  # oldest first
        (
            "esim.order · POST /api/v1/open/esim/order · — · 30001 ms",
            "esim.order: no answer within 30 s",
        ),
        ("esim.query · POST /api/v1/open/esim/query · 200 · 187 ms", "OK"),
        (
            "esim.cancel · POST /api/v1/open/esim/cancel · 400 · 95 ms",
            "esim.cancel: HTTP 400: profile in use",
        ),
    ]
    body = response.content.decode()
    assert "Upstream call" in body
    assert "esim.order · POST /api/v1/open/esim/order · — · 30001 ms" in body
    assert "esim.order: no answer within 30 s" in body
    assert "esim.cancel: HTTP 400: profile in use" in body
    assert "/topups/reports/transactions" not in body and "4242 ms" not in body
    assert "someone else" not in body and "not.this.order" not in body

    other_page = client.get(change_url(other)).content.decode()
    assert "/topups/reports/transactions · 200 · 4242 ms" in other_page
    assert "esim.order" not in other_page


def test_timeline_query_count_is_fixed(
    client, signed_in_administrator, django_assert_max_num_queries
):
    def page_queries(order):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(change_url(order)).status_code == 200
        return len(ctx)

    small = OrderFactory(status=Status.FULFILLED)
    PaymentFactory(order=small, external_reference="cs_small")
    big = OrderFactory(status=Status.FULFILLED)
    for n in range(5):
        PaymentFactory(order=big, external_reference=f"cs_big_{n}")
        ProvisioningAttemptFactory(order=big, number=n + 1)
    page_queries(small)  # the first page caches the session and the unread count
    assert page_queries(small) == page_queries(big)


def test_search_by_iccid_number_email_and_recharge_number(client, signed_in_administrator):
    order = OrderFactory(status=Status.FULFILLED)
    sim = SimFactory(issued_by_order=order)
    renewal = OrderFactory(kind=Order.Kind.RENEWAL, sim=sim, status=Status.FULFILLED)
    recharge = OrderFactory(kind=Order.Kind.RECHARGE, recharge_msisdn="+923001234567")
    OrderFactory()
    assert listed(client, q=sim.iccid) == {order.pk, renewal.pk}
    assert listed(client, q=order.number) == {order.pk}
    assert listed(client, q=order.customer.email.upper()) == {order.pk}
    assert listed(client, q="+923001234567") == {recharge.pk}
    assert listed(client, q="0300 1234567") == listed(client, q="03001234567") == {recharge.pk}


def test_sims_are_listed_and_found_by_the_national_number(client, signed_in_administrator):
    sim = SimFactory(msisdn="+923001234567")
    SimFactory(msisdn="+923001234568")
    url = reverse("admin:orders_sim_changelist")
    body = client.get(url).content.decode()
    assert "0300 1234567" in body and "+923001234567" not in body
    found = client.get(url, {"q": "0300 1234567"}).context["cl"].result_list
    assert list(found) == [sim]


def test_problems_filter(client, signed_in_administrator):
    stuck = OrderFactory(status=Status.NEEDS_ATTENTION)
    long_paid = OrderFactory(status=Status.PAID)
    Order.objects.filter(pk=long_paid.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    OrderFactory(status=Status.PAID)  # just paid: the worker has it
    manual = OrderFactory(status=Status.AWAITING_PAYMENT)
    PaymentFactory(order=manual, gateway=Gateway.MANUAL)
    card = OrderFactory(status=Status.AWAITING_PAYMENT)
    PaymentFactory(order=card, gateway=Gateway.TEST)
    assert listed(client, problem="needs_attention") == set(
        Order.objects.filter(status=Status.NEEDS_ATTENTION).values_list("pk", flat=True)
    )
    assert stuck.pk in listed(client, problem="needs_attention")
    assert listed(client, problem="stuck_paid") == {long_paid.pk}
    assert listed(client, problem="manual_payment") == {manual.pk}
    assert listed(client, payments__gateway__exact="manual", status__exact="awaiting_payment") == {
        manual.pk
    }


def _orders(count):
    order = OrderFactory(partner=None)
    template = {
        "kind": order.kind,
        "customer": order.customer,
        "plan": order.plan,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "total": order.total,
    }
    Order.objects.bulk_create(Order(**template) for _ in range(count - 1))


def test_changelist_query_budget_does_not_grow(client, signed_in_administrator):
    def changelist_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(CHANGELIST, {"problem": "needs_attention"})
            assert response.status_code == 200
            response = client.get(CHANGELIST)
            assert response.status_code == 200
        return len(ctx)

    _orders(10)
    changelist_queries()  # the first pages cache the session and the unread count
    few = changelist_queries()
    _orders(290)
    assert Order.objects.count() >= 300
    assert changelist_queries() == few
    assert few <= 24
