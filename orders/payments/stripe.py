"""Stripe Checkout: card, Alipay and WeChat Pay through hosted Checkout Sessions.

Webhooks are triggers only: every event is answered by re-reading the session (or the charge's
refunds) from Stripe, so the outcome follows what Stripe says now, not what the event said then.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from django.conf import settings

from core import signing
from core.money import from_minor_units, to_minor_units
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
    PaymentGateway,
    PaymentStart,
    PaymentUpdate,
    RefundInfo,
    RefundResult,
    VerifiedEvent,
)

SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 30
# Error codes Stripe sends with a 4xx that a later retry can get past.
TRANSIENT_CODES = {"lock_timeout", "idempotency_key_in_use", "rate_limit"}

METHOD_OPTIONS = {
    "card": {"payment_method_types": ["card"]},
    "alipay": {"payment_method_types": ["alipay"]},
    "wechat_pay": {
        "payment_method_types": ["wechat_pay"],
        "payment_method_options": {"wechat_pay": {"client": "web"}},
    },
}
EXPIRED_EVENT = "checkout.session.expired"
SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    EXPIRED_EVENT,
}
# A refund's status changes: Stripe sends charge.refund.updated (and, in newer API versions,
# refund.updated / refund.failed); each names the refund.
REFUND_EVENTS = {"charge.refund.updated", "refund.updated", "refund.failed"}
# Stripe's refund statuses; anything else is taken as not final yet.
REFUND_STATUSES = {
    "succeeded": REFUND_SUCCEEDED,
    "pending": REFUND_PENDING,
    "requires_action": REFUND_PENDING,
    "failed": REFUND_FAILED,
    "canceled": REFUND_FAILED,
}


def is_transient(exc: stripe.StripeError) -> bool:
    """Whether retrying the same call (same idempotency key) may succeed."""
    if isinstance(exc, stripe.RateLimitError | stripe.APIConnectionError):
        return True
    if exc.http_status is None:
        return isinstance(exc, stripe.APIError)
    code = exc.code or getattr(exc.error, "code", None)
    return exc.http_status >= 500 or code in TRANSIENT_CODES


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turn Stripe's exceptions into GatewayError, transient or not."""
    try:
        yield
    except stripe.StripeError as exc:
        message = f"Stripe {type(exc).__name__}: {exc.user_message or 'no message'}"
        raise GatewayError(message, transient=is_transient(exc)) from exc


def _id(value) -> str:
    """The id of an expandable field, expanded or not."""
    if value is None or isinstance(value, str):
        return value or ""
    return value["id"]


def _refund_status(item) -> str:
    return REFUND_STATUSES.get(getattr(item, "status", None) or "", REFUND_PENDING)


def _refund_note(item) -> str:
    status = getattr(item, "status", None) or "unknown"
    reason = getattr(item, "failure_reason", None)
    return f"Stripe refund {item.id} {status}" + (f": {reason}" if reason else "")


def _refund_info(item) -> RefundInfo:
    """A Stripe refund object as a RefundInfo, with our Refund's pk from its metadata."""
    metadata = getattr(item, "metadata", None)
    try:
        refund_id = int(getattr(metadata, "refund_id", None) or 0) or None
    except (TypeError, ValueError):
        refund_id = None
    return RefundInfo(
        item.id,
        from_minor_units(item.amount, item.currency.upper()),
        status=_refund_status(item),
        refund_id=refund_id,
        note=_refund_note(item),
    )


def _order_number(session) -> str:
    """The order number ``start`` put on the session (metadata, client_reference_id); "" if none.

    A session without one was not created by this portal (another app on the same Stripe
    account, the dashboard).
    """
    metadata = getattr(session, "metadata", None)
    number = getattr(metadata, "order_number", None) or getattr(
        session, "client_reference_id", None
    )
    return str(number or "")


def _update(session, outcome: str, refunds=(), note: str = "") -> PaymentUpdate:
    currency = (getattr(session, "currency", None) or "").upper()
    minor = getattr(session, "amount_total", None)
    amount = from_minor_units(minor, currency) if minor is not None and currency else None
    return PaymentUpdate(
        session.id, outcome, amount, currency, list(refunds), note, _order_number(session)
    )


class StripeGateway(PaymentGateway):
    key = "stripe"
    runs_locally = False

    def _client(self) -> stripe.StripeClient:
        # No retries inside the client: callers retry with back-off and a record of each try.
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        """Create a Checkout Session; the customer is redirected to its hosted page."""
        if payment.method not in METHOD_OPTIONS:
            raise GatewayError(f"Stripe does not take {payment.method!r} payments.")
        order = payment.order
        metadata = {"order_number": order.number, "payment_id": str(payment.pk)}
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": to_minor_units(payment.amount, payment.currency),
                        "product_data": {"name": f"{order.plan.name} ({order.number})"},
                    },
                    "quantity": 1,
                }
            ],
            **METHOD_OPTIONS[payment.method],
            "client_reference_id": order.number,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if order.customer_id:
            params["customer_email"] = order.customer.email
        with stripe_errors():
            session = self._client().v1.checkout.sessions.create(
                params, {"idempotency_key": payment.idempotency_key}
            )
        return PaymentStart(redirect_url=session.url, external_reference=session.id)

    def expire(self, payment) -> None:
        """Expire an open Checkout Session (a superseded attempt); a paid one stays paid."""
        reference = payment.external_reference or ""
        if not reference.startswith("cs_"):  # an off-session charge has no page to close
            return
        client = self._client()
        with stripe_errors():
            session = client.v1.checkout.sessions.retrieve(reference)
            if getattr(session, "status", None) == "open":
                client.v1.checkout.sessions.expire(reference)

    def verify_event(self, body: bytes, headers) -> VerifiedEvent:
        """Stripe's ``t=…,v1=…`` signature on the raw body, within 300 s either way."""
        secret = (settings.STRIPE_WEBHOOK_SECRET or "").strip()
        return signing.verified_event(
            body, headers.get(SIGNATURE_HEADER), secret, TOLERANCE_SECONDS
        )

    def read_event(self, event: VerifiedEvent) -> PaymentUpdate:
        """Re-read what the event points at and report the payment's state from that."""
        kind = event.event_type
        data = event.payload.get("data") or {}
        obj = data.get("object") or {}
        client = self._client()
        with stripe_errors():
            if kind in SESSION_EVENTS and obj.get("id"):
                session = client.v1.checkout.sessions.retrieve(
                    obj["id"], {"expand": ["payment_intent"]}
                )
                return _update(session, self._session_outcome(kind, session))
            if kind == "payment_intent.payment_failed":
                return self._by_intent(client, _id(obj.get("id")), OUTCOME_FAILED)
            if kind == "charge.refunded" and obj.get("id"):
                refunds = client.v1.refunds.list({"charge": obj["id"], "limit": 100})
                infos = [
                    RefundInfo(item.id, from_minor_units(item.amount, item.currency.upper()))
                    for item in refunds.auto_paging_iter()
                    if item.status == "succeeded"
                ]
                return self._by_intent(
                    client, _id(obj.get("payment_intent")), OUTCOME_REFUNDED, infos
                )
            if kind in REFUND_EVENTS and obj.get("id"):
                item = client.v1.refunds.retrieve(obj["id"])
                return PaymentUpdate("", OUTCOME_REFUND_UPDATED, refunds=[_refund_info(item)])
            if kind == "charge.dispute.created":
                return self._by_intent(client, _id(obj.get("payment_intent")), OUTCOME_DISPUTED)
        return PaymentUpdate("", OUTCOME_IGNORED, note=f"unhandled event type {kind}")

    @staticmethod
    def _session_outcome(kind: str, session) -> str:
        if kind == EXPIRED_EVENT:  # the customer's payment page expired unpaid
            expired = getattr(session, "status", None) == "expired"
            return OUTCOME_EXPIRED if expired else OUTCOME_PENDING
        payment_status = getattr(session, "payment_status", None) or ""
        if kind == "checkout.session.async_payment_failed":
            return OUTCOME_FAILED
        paid = {"paid", "no_payment_required"}
        if kind == "checkout.session.async_payment_succeeded":
            paid = {"paid"}
        return OUTCOME_PAID if payment_status in paid else OUTCOME_PENDING

    @staticmethod
    def _by_intent(client, intent_id: str, outcome: str, refunds=()) -> PaymentUpdate:
        """The update for the Checkout Session that created payment intent ``intent_id``."""
        if not intent_id:
            return PaymentUpdate("", OUTCOME_IGNORED, note="event names no payment intent")
        found = client.v1.checkout.sessions.list({"payment_intent": intent_id, "limit": 1})
        if not found.data:
            return PaymentUpdate("", OUTCOME_IGNORED, note=f"no checkout session for {intent_id}")
        return _update(found.data[0], outcome, refunds)

    def refund(self, refund) -> RefundResult:
        """Refund part or all of the payment intent; returns the Stripe refund id and status.

        Card refunds usually succeed at once; Alipay, WeChat Pay and some cards answer
        ``pending`` and settle later (a ``charge.refund.updated`` event).
        """
        payment = refund.payment
        if not payment.external_reference:
            raise GatewayError("The payment has no Stripe checkout session.")
        client = self._client()
        with stripe_errors():
            if payment.external_reference.startswith("pi_"):  # an off-session (auto-renew) charge
                intent_id = payment.external_reference
            else:
                session = client.v1.checkout.sessions.retrieve(payment.external_reference)
                intent_id = _id(getattr(session, "payment_intent", None))
            if not intent_id:
                raise GatewayError("The checkout session has no payment to refund.")
            created = client.v1.refunds.create(
                {
                    "payment_intent": intent_id,
                    "amount": to_minor_units(refund.amount, refund.currency),
                    "metadata": {
                        "order_number": payment.order.number,
                        "payment_id": str(payment.pk),
                        "refund_id": str(refund.pk),
                    },
                },
                {"idempotency_key": refund.idempotency_key},
            )
        return RefundResult(created.id, _refund_status(created), _refund_note(created))
