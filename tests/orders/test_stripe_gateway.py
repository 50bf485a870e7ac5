"""The Stripe gateway against recorded request/response shapes (HTTP faked by ``responses``)."""

import json
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from responses import matchers

from core import signing
from orders.models import Order, Payment, Refund
from orders.payments.base import (
    OUTCOME_DISPUTED,
    OUTCOME_EXPIRED,
    OUTCOME_FAILED,
    OUTCOME_IGNORED,
    OUTCOME_PAID,
    OUTCOME_PENDING,
    OUTCOME_REFUND_UPDATED,
    OUTCOME_REFUNDED,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    GatewayError,
    MalformedEvent,
    PaymentStart,
    RefundInfo,
    RefundResult,
    SignatureError,
    VerifiedEvent,
)
from orders.payments.stripe import StripeGateway
from orders.services.payment_events import receive_webhook
from orders.services.payments import start_payment
from orders.services.refunds import refund_order
from tests.factories import OrderFactory, PartnerFactory, PaymentFactory, RefundFactory
from tests.orders.conftest import STRIPE_WEBHOOK_SECRET

pytestmark = pytest.mark.usefixtures("stripe_keys")

API = "https://api.stripe.com/v1"
SESSIONS = f"{API}/checkout/sessions"
SESSION_ID = "cs_test_a1"
SECRET = STRIPE_WEBHOOK_SECRET


@pytest.fixture
def gateway():
    return StripeGateway()


def make_payment(method="card", currency="PKR", amount="599.00", **fields) -> Payment:
    order = OrderFactory(currency=currency, total=Decimal(amount), subtotal=Decimal(amount))
    return PaymentFactory(
        order=order,
        gateway="stripe",
        method=method,
        currency=currency,
        amount=Decimal(amount),
        **fields,
    )


def form_has(expected: dict):
    """A ``responses`` matcher: these form fields (and maybe others) are in the request body."""

    def match(request):
        form = sent_form(request)
        wrong = {key: form.get(key) for key, value in expected.items() if form.get(key) != value}
        return not wrong, f"form fields differ from {expected}: {wrong}"

    return match


def sent_form(request) -> dict:
    body = request.body or ""
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else body))


def session_json(session_id=SESSION_ID, payment_status="paid", amount=59900, currency="pkr"):
    return {
        "id": session_id,
        "object": "checkout.session",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "mode": "payment",
        "status": "complete" if payment_status == "paid" else "open",
        "payment_status": payment_status,
        "amount_total": amount,
        "currency": currency,
        "payment_intent": {"id": "pi_1", "object": "payment_intent", "status": "succeeded"},
    }


def list_json(url: str, *items) -> dict:
    return {"object": "list", "url": url, "has_more": False, "data": list(items)}


def event(event_type: str, obj: dict) -> VerifiedEvent:
    payload = {"id": "evt_1", "object": "event", "type": event_type, "data": {"object": obj}}
    return VerifiedEvent("evt_1", event_type, payload)


def expect_session_read(payment_status="paid", **fields):
    return responses.get(
        f"{SESSIONS}/{SESSION_ID}",
        json=session_json(payment_status=payment_status, **fields),
        match=[matchers.query_param_matcher({"expand[0]": "payment_intent"})],
    )


def expect_session_lookup(*sessions):
    return responses.get(
        SESSIONS,
        json=list_json("/v1/checkout/sessions", *sessions),
        match=[matchers.query_param_matcher({"payment_intent": "pi_1", "limit": "1"})],
    )


# start()


@pytest.mark.django_db
@responses.activate
def test_start_creates_a_card_checkout_session(gateway):
    payment = make_payment()
    order = payment.order
    created = responses.post(
        SESSIONS,
        json=session_json(payment_status="unpaid"),
        match=[
            matchers.header_matcher(
                {"Idempotency-Key": payment.idempotency_key, "Authorization": "Bearer sk_test_x"}
            ),
            form_has(
                {
                    "mode": "payment",
                    "line_items[0][price_data][currency]": "pkr",
                    "line_items[0][price_data][unit_amount]": "59900",
                    "line_items[0][price_data][product_data][name]": (
                        f"{order.plan.name} ({order.number})"
                    ),
                    "line_items[0][quantity]": "1",
                    "payment_method_types[0]": "card",
                    "client_reference_id": order.number,
                    "metadata[order_number]": order.number,
                    "metadata[payment_id]": str(payment.pk),
                    "customer_email": order.customer.email,
                    "success_url": "https://shop.example/paid",
                    "cancel_url": "https://shop.example/cancelled",
                }
            ),
        ],
    )

    started = gateway.start(
        payment,
        success_url="https://shop.example/paid",
        cancel_url="https://shop.example/cancelled",
    )

    assert started == PaymentStart(
        redirect_url=f"https://checkout.stripe.com/c/pay/{SESSION_ID}",
        external_reference=SESSION_ID,
    )
    assert created.call_count == 1
    form = sent_form(responses.calls[0].request)
    assert "payment_method_types[1]" not in form
    assert not any(key.startswith("payment_method_options") for key in form)


@pytest.mark.django_db
@responses.activate
def test_start_alipay_in_cny(gateway):
    payment = make_payment(method="alipay", currency="CNY", amount="14.99")
    responses.post(
        SESSIONS,
        json=session_json(currency="cny", amount=1499),
        match=[
            form_has(
                {
                    "payment_method_types[0]": "alipay",
                    "line_items[0][price_data][currency]": "cny",
                    "line_items[0][price_data][unit_amount]": "1499",
                }
            )
        ],
    )

    started = gateway.start(payment, success_url="https://s.example/ok", cancel_url="https://s/x")

    assert started.external_reference == SESSION_ID


@pytest.mark.django_db
@responses.activate
def test_start_wechat_pay_uses_the_web_client(gateway):
    payment = make_payment(method="wechat_pay", currency="CNY", amount="14.99")
    responses.post(
        SESSIONS,
        json=session_json(currency="cny", amount=1499),
        match=[
            form_has(
                {
                    "payment_method_types[0]": "wechat_pay",
                    "payment_method_options[wechat_pay][client]": "web",
                }
            )
        ],
    )

    assert gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x").redirect_url


@pytest.mark.django_db
@responses.activate
def test_start_without_a_customer_sends_no_email(gateway):
    order = OrderFactory(customer=None, partner=PartnerFactory())
    payment = PaymentFactory(order=order, gateway="stripe", method="card")
    responses.post(SESSIONS, json=session_json(payment_status="unpaid"))

    gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")

    assert "customer_email" not in sent_form(responses.calls[0].request)


@pytest.mark.django_db
def test_start_refuses_a_method_stripe_does_not_take(gateway):
    payment = make_payment(method="jazzcash")

    with pytest.raises(GatewayError) as raised:
        gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")

    assert raised.value.transient is False


@pytest.mark.django_db
@responses.activate
def test_a_retried_start_sends_the_same_idempotency_key(gateway):
    payment = make_payment()
    key_matcher = matchers.header_matcher({"Idempotency-Key": payment.idempotency_key})
    responses.post(
        SESSIONS,
        status=503,
        json={"error": {"type": "api_error", "message": "Try again"}},
        match=[key_matcher],
    )
    responses.post(SESSIONS, json=session_json(payment_status="unpaid"), match=[key_matcher])

    with pytest.raises(GatewayError) as raised:
        gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")
    started = gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")

    assert raised.value.transient is True
    assert started.external_reference == SESSION_ID
    keys = [call.request.headers["Idempotency-Key"] for call in responses.calls]
    assert keys == [payment.idempotency_key, payment.idempotency_key]
    assert sent_form(responses.calls[0].request) == sent_form(responses.calls[1].request)


@pytest.mark.django_db
@responses.activate
@pytest.mark.parametrize(
    ("status", "error", "transient"),
    [
        (429, {"type": "invalid_request_error", "message": "Too many requests"}, True),
        (500, {"type": "api_error", "message": "Internal"}, True),
        (400, {"type": "invalid_request_error", "message": "Bad currency", "param": "x"}, False),
        (401, {"type": "invalid_request_error", "message": "Invalid API Key"}, False),
        (402, {"type": "card_error", "message": "Declined", "code": "card_declined"}, False),
        (409, {"type": "idempotency_error", "message": "Key reused"}, False),
        (409, {"type": "invalid_request_error", "code": "idempotency_key_in_use"}, True),
    ],
)
def test_start_maps_stripe_errors(gateway, status, error, transient):
    payment = make_payment()
    responses.post(SESSIONS, status=status, json={"error": error})

    with pytest.raises(GatewayError) as raised:
        gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")

    assert raised.value.transient is transient
    assert len(responses.calls) == 1  # no hidden retries: the caller decides


@pytest.mark.django_db
@responses.activate
def test_a_connection_error_is_transient(gateway):
    payment = make_payment()
    responses.post(SESSIONS, body=requests.exceptions.ConnectionError("connection reset"))

    with pytest.raises(GatewayError) as raised:
        gateway.start(payment, success_url="https://s/ok", cancel_url="https://s/x")

    assert raised.value.transient is True


# verify_event()


def signed_body(**overrides) -> bytes:
    payload = {
        "id": "evt_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": SESSION_ID, "object": "checkout.session"}},
        **overrides,
    }
    return json.dumps(payload).encode()


def test_a_correctly_signed_event_verifies(gateway):
    body = signed_body()

    verified = gateway.verify_event(body, {"Stripe-Signature": signing.sign(body, SECRET)})

    assert verified == VerifiedEvent("evt_1", "checkout.session.completed", json.loads(body))


def test_verification_reads_the_header_case_insensitively(gateway, rf):
    body = signed_body()
    request = rf.post(
        "/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signing.sign(body, SECRET),
    )

    assert gateway.verify_event(request.body, request.headers).event_id == "evt_1"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            lambda body: {"Stripe-Signature": signing.sign(body + b" ", SECRET)}, id="bad"
        ),
        pytest.param(lambda body: {"Stripe-Signature": signing.sign(body, "whsec_x")}, id="secret"),
        pytest.param(lambda body: {}, id="missing-header"),
        pytest.param(lambda body: {"Stripe-Signature": ""}, id="empty-header"),
        pytest.param(lambda body: {"Stripe-Signature": "t=abc,v1=00"}, id="garbled-header"),
        pytest.param(
            lambda body: {"Stripe-Signature": signing.sign(body, SECRET, int(time.time()) - 301)},
            id="too-old",
        ),
        pytest.param(
            lambda body: {"Stripe-Signature": signing.sign(body, SECRET, int(time.time()) + 301)},
            id="in-the-future",
        ),
        pytest.param(
            lambda body: {"Test-Signature": signing.sign(body, SECRET)}, id="other-gateway-header"
        ),
    ],
)
def test_bad_signatures_are_refused(gateway, headers):
    body = signed_body()

    with pytest.raises(SignatureError):
        gateway.verify_event(body, headers(body))


@pytest.mark.parametrize("secret", ["", "   "])
def test_a_missing_webhook_secret_refuses_everything(gateway, settings, secret):
    settings.STRIPE_WEBHOOK_SECRET = secret
    body = signed_body()

    with pytest.raises(SignatureError):
        gateway.verify_event(body, {"Stripe-Signature": signing.sign(body, secret)})


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"id": "evt_1"}', b"\xff\xfe"])
def test_a_signed_but_malformed_body_is_not_an_event(gateway, body):
    with pytest.raises(MalformedEvent):
        gateway.verify_event(body, {"Stripe-Signature": signing.sign(body, SECRET)})


# read_event()


@pytest.mark.parametrize(
    ("event_type", "event_says", "stripe_says", "outcome"),
    [
        ("checkout.session.completed", "paid", "paid", OUTCOME_PAID),
        ("checkout.session.completed", "unpaid", "unpaid", OUTCOME_PENDING),
        ("checkout.session.completed", "paid", "unpaid", OUTCOME_PENDING),
        ("checkout.session.completed", "unpaid", "paid", OUTCOME_PAID),
        ("checkout.session.completed", "paid", "no_payment_required", OUTCOME_PAID),
        ("checkout.session.async_payment_succeeded", "paid", "paid", OUTCOME_PAID),
        ("checkout.session.async_payment_succeeded", "paid", "unpaid", OUTCOME_PENDING),
        ("checkout.session.async_payment_failed", "unpaid", "unpaid", OUTCOME_FAILED),
    ],
)
@responses.activate
def test_session_events_follow_the_re_read_session(
    gateway, event_type, event_says, stripe_says, outcome
):
    reread = expect_session_read(payment_status=stripe_says)
    obj = session_json(payment_status=event_says, amount=1)  # the event's copy is never trusted

    update = gateway.read_event(event(event_type, obj))

    assert reread.call_count == 1
    assert update.payment_reference == SESSION_ID
    assert update.outcome == outcome
    assert (update.amount, update.currency) == (Decimal("599.00"), "PKR")
    assert update.refunds == []


@pytest.mark.parametrize(
    ("stripe_status", "outcome"), [("expired", OUTCOME_EXPIRED), ("open", OUTCOME_PENDING)]
)
@responses.activate
def test_an_expired_session_follows_the_re_read_session(gateway, stripe_status, outcome):
    responses.get(
        f"{SESSIONS}/{SESSION_ID}",
        json={**session_json(payment_status="unpaid"), "status": stripe_status},
    )

    update = gateway.read_event(event("checkout.session.expired", {"id": SESSION_ID}))

    assert (update.payment_reference, update.outcome) == (SESSION_ID, outcome)


@pytest.mark.parametrize(
    ("fields", "order_number"),
    [
        ({"metadata": {"order_number": "PS-1", "payment_id": "7"}}, "PS-1"),
        ({"client_reference_id": "PS-2", "metadata": {}}, "PS-2"),
        ({"client_reference_id": None, "metadata": {"their_ref": "x"}}, ""),
        ({}, ""),
    ],
)
@responses.activate
def test_updates_carry_the_order_number_the_session_names(gateway, fields, order_number):
    responses.get(f"{SESSIONS}/{SESSION_ID}", json={**session_json(), **fields})

    update = gateway.read_event(event("checkout.session.completed", {"id": SESSION_ID}))

    assert update.order_number == order_number


@responses.activate
def test_the_re_read_uses_the_secret_key(gateway):
    responses.get(
        f"{SESSIONS}/{SESSION_ID}",
        json=session_json(),
        match=[matchers.header_matcher({"Authorization": "Bearer sk_test_x"})],
    )

    gateway.read_event(event("checkout.session.completed", {"id": SESSION_ID}))


@responses.activate
def test_a_failed_payment_intent_fails_its_session(gateway):
    lookup = expect_session_lookup(session_json(payment_status="unpaid"))

    update = gateway.read_event(
        event("payment_intent.payment_failed", {"id": "pi_1", "object": "payment_intent"})
    )

    assert lookup.call_count == 1
    assert (update.payment_reference, update.outcome) == (SESSION_ID, OUTCOME_FAILED)
    assert (update.amount, update.currency) == (Decimal("599.00"), "PKR")


@responses.activate
def test_a_failed_payment_intent_without_a_session_is_ignored(gateway):
    expect_session_lookup()

    update = gateway.read_event(event("payment_intent.payment_failed", {"id": "pi_1"}))

    assert (update.payment_reference, update.outcome) == ("", OUTCOME_IGNORED)


def refund_json(refund_id: str, amount: int, status="succeeded") -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "pkr",
        "status": status,
        "charge": "ch_1",
        "payment_intent": "pi_1",
    }


def charge_event(**fields) -> VerifiedEvent:
    charge = {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "currency": "pkr"}
    return event("charge.refunded", {**charge, **fields})


@pytest.mark.parametrize(
    ("stripe_refunds", "reported"),
    [
        pytest.param(
            [refund_json("re_1", 10000)], [RefundInfo("re_1", Decimal("100.00"))], id="partial"
        ),
        pytest.param(
            [refund_json("re_2", 49900), refund_json("re_1", 10000)],
            [RefundInfo("re_2", Decimal("499.00")), RefundInfo("re_1", Decimal("100.00"))],
            id="full",
        ),
        pytest.param(
            [refund_json("re_3", 5000, status="pending"), refund_json("re_1", 10000)],
            [RefundInfo("re_1", Decimal("100.00"))],
            id="pending-left-out",
        ),
    ],
)
@responses.activate
def test_charge_refunded_reports_the_re_read_refunds(gateway, stripe_refunds, reported):
    listed = responses.get(
        f"{API}/refunds",
        json=list_json("/v1/refunds", *stripe_refunds),
        match=[matchers.query_param_matcher({"charge": "ch_1", "limit": "100"})],
    )
    expect_session_lookup(session_json())
    # The event's embedded refunds are stale and never used.
    stale = {"refunds": {"object": "list", "data": [refund_json("re_old", 1)]}}

    update = gateway.read_event(charge_event(amount_refunded=1, **stale))

    assert listed.call_count == 1
    assert (update.payment_reference, update.outcome) == (SESSION_ID, OUTCOME_REFUNDED)
    assert update.refunds == reported
    assert (update.amount, update.currency) == (Decimal("599.00"), "PKR")


@responses.activate
def test_a_dispute_is_reported_against_its_session(gateway):
    lookup = expect_session_lookup(session_json())
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_1", "payment_intent": "pi_1"}

    update = gateway.read_event(event("charge.dispute.created", dispute))

    assert lookup.call_count == 1
    assert (update.payment_reference, update.outcome) == (SESSION_ID, OUTCOME_DISPUTED)


@pytest.mark.parametrize("event_type", ["charge.refund.updated", "refund.updated", "refund.failed"])
@pytest.mark.parametrize(
    ("stripe_status", "status"),
    [("succeeded", REFUND_SUCCEEDED), ("failed", REFUND_FAILED), ("pending", REFUND_PENDING)],
)
@responses.activate
def test_refund_updates_report_the_re_read_refund(gateway, event_type, stripe_status, status):
    reread = responses.get(
        f"{API}/refunds/re_1",
        json={
            **refund_json("re_1", 10000, status=stripe_status),
            "metadata": {"refund_id": "42", "payment_id": "7"},
        },
    )
    # The event's copy of the refund is stale and never used.
    update = gateway.read_event(event(event_type, refund_json("re_1", 1, status="pending")))

    assert reread.call_count == 1
    assert (update.payment_reference, update.outcome) == ("", OUTCOME_REFUND_UPDATED)
    [info] = update.refunds
    assert (info.external_reference, info.amount, info.status, info.refund_id) == (
        "re_1",
        Decimal("100.00"),
        status,
        42,
    )


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("customer.created", {"id": "cus_1", "object": "customer"}),
        ("charge.dispute.created", {"id": "dp_1", "object": "dispute", "payment_intent": None}),
    ],
)
@responses.activate
def test_other_events_are_ignored_without_calling_stripe(gateway, event_type, obj):
    update = gateway.read_event(event(event_type, obj))

    assert (update.payment_reference, update.outcome) == ("", OUTCOME_IGNORED)
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    ("reply", "transient"),
    [
        ({"status": 429, "json": {"error": {"type": "rate_limit_error"}}}, True),
        ({"status": 502, "json": {"error": {"type": "api_error"}}}, True),
        ({"body": requests.exceptions.ConnectTimeout("timed out")}, True),
        ({"status": 404, "json": {"error": {"type": "invalid_request_error"}}}, False),
    ],
)
@responses.activate
def test_errors_while_re_reading_propagate(gateway, reply, transient):
    responses.get(f"{SESSIONS}/{SESSION_ID}", **reply)

    with pytest.raises(GatewayError) as raised:
        gateway.read_event(event("checkout.session.completed", {"id": SESSION_ID}))

    assert raised.value.transient is transient


# refund()


def paid_payment() -> Payment:
    return make_payment(status=Payment.Status.SUCCEEDED, external_reference=SESSION_ID)


@pytest.mark.django_db
@responses.activate
def test_refund_of_an_off_session_charge_uses_its_payment_intent(gateway):
    payment = make_payment(status=Payment.Status.SUCCEEDED, external_reference="pi_auto_7")
    refund = RefundFactory(payment=payment, amount=Decimal("100"), currency="PKR")
    created = responses.post(
        f"{API}/refunds",
        json=refund_json("re_7", 10000),
        match=[form_has({"payment_intent": "pi_auto_7", "amount": "10000"})],
    )
    assert gateway.refund(refund) == RefundResult(
        "re_7", REFUND_SUCCEEDED, "Stripe refund re_7 succeeded"
    )
    assert created.call_count == 1  # no checkout session to look up


@pytest.mark.django_db
@responses.activate
def test_refund_refunds_the_sessions_payment_intent(gateway):
    refund = RefundFactory(payment=paid_payment(), amount=Decimal("150.50"), currency="PKR")
    responses.get(f"{SESSIONS}/{SESSION_ID}", json={**session_json(), "payment_intent": "pi_1"})
    created = responses.post(
        f"{API}/refunds",
        json=refund_json("re_9", 15050, status="pending"),
        match=[
            matchers.header_matcher({"Idempotency-Key": refund.idempotency_key}),
            form_has(
                {
                    "payment_intent": "pi_1",
                    "amount": "15050",
                    "metadata[order_number]": refund.payment.order.number,
                    "metadata[payment_id]": str(refund.payment.pk),
                    "metadata[refund_id]": str(refund.pk),
                }
            ),
        ],
    )

    assert gateway.refund(refund) == RefundResult(
        "re_9", REFUND_PENDING, "Stripe refund re_9 pending"
    )
    assert created.call_count == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stripe_status", "failure_reason", "expected"),
    [
        ("succeeded", None, REFUND_SUCCEEDED),
        ("pending", None, REFUND_PENDING),
        ("requires_action", None, REFUND_PENDING),
        ("failed", "expired_or_canceled_card", REFUND_FAILED),
        ("canceled", None, REFUND_FAILED),
    ],
)
@responses.activate
def test_refund_reports_stripes_refund_status(gateway, stripe_status, failure_reason, expected):
    payment = make_payment(status=Payment.Status.SUCCEEDED, external_reference="pi_auto_7")
    refund = RefundFactory(payment=payment, amount=Decimal("100"), currency="PKR")
    answer = {**refund_json("re_7", 10000, status=stripe_status), "failure_reason": failure_reason}
    responses.post(f"{API}/refunds", json=answer)

    result = gateway.refund(refund)

    assert (result.external_reference, result.status) == ("re_7", expected)
    if failure_reason:
        assert failure_reason in result.note


@pytest.mark.django_db
@responses.activate
def test_refund_of_an_unpaid_session_is_refused(gateway):
    refund = RefundFactory(payment=paid_payment())
    responses.get(
        f"{SESSIONS}/{SESSION_ID}", json={**session_json("unpaid"), "payment_intent": None}
    )

    with pytest.raises(GatewayError) as raised:
        gateway.refund(refund)

    assert raised.value.transient is False
    assert len(responses.calls) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reply", "transient"),
    [
        ({"status": 429, "json": {"error": {"type": "rate_limit_error"}}}, True),
        ({"body": requests.exceptions.ConnectionError("reset")}, True),
        ({"status": 400, "json": {"error": {"type": "invalid_request_error"}}}, False),
    ],
)
@responses.activate
def test_refund_maps_stripe_errors(gateway, reply, transient):
    refund = RefundFactory(payment=paid_payment())
    responses.get(f"{SESSIONS}/{SESSION_ID}", json={**session_json(), "payment_intent": "pi_1"})
    responses.post(f"{API}/refunds", **reply)

    with pytest.raises(GatewayError) as raised:
        gateway.refund(refund)

    assert raised.value.transient is transient


# Through the services: pay, refund, and the refund's webhook, all against faked Stripe.


@pytest.mark.django_db
@responses.activate
def test_a_stripe_payment_and_refund_through_the_services(
    settings, django_capture_on_commit_callbacks
):
    settings.PAYMENT_GATEWAY = "stripe"
    order = OrderFactory()
    responses.post(SESSIONS, json=session_json(payment_status="unpaid"))

    payment, started = start_payment(
        order=order,
        gateway_key="stripe",
        method="card",
        success_url="https://shop.example/paid",
        cancel_url="https://shop.example/cancelled",
    )
    assert payment.external_reference == SESSION_ID and started.redirect_url

    expect_session_read(payment_status="paid")
    body = signed_body()
    with django_capture_on_commit_callbacks(execute=True):
        receive_webhook(
            source="stripe", body=body, headers={"Stripe-Signature": signing.sign(body, SECRET)}
        )
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.FULFILLED  # paid, then provisioned through the sandbox

    responses.get(f"{SESSIONS}/{SESSION_ID}", json={**session_json(), "payment_intent": "pi_1"})
    responses.post(f"{API}/refunds", json=refund_json("re_1", 10000))
    refund = refund_order(order=order, amount=Decimal("100"))
    assert (refund.status, refund.external_reference) == (Refund.Status.SUCCEEDED, "re_1")

    responses.get(f"{API}/refunds", json=list_json("/v1/refunds", refund_json("re_1", 10000)))
    expect_session_lookup(session_json())
    body = json.dumps(
        {
            "id": "evt_2",
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_1", "payment_intent": "pi_1"}},
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        receive_webhook(
            source="stripe", body=body, headers={"Stripe-Signature": signing.sign(body, SECRET)}
        )
    assert list(payment.refunds.values_list("external_reference", flat=True)) == ["re_1"]
