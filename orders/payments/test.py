"""The built-in test gateway: a checkout page with pay / fail / pay-later buttons.

Its buttons send Stripe-shaped events, signed like Stripe's, through the same webhook path.
"""

import hashlib
import hmac
import json
import uuid

from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

from core import signing
from core.money import from_minor_units, to_minor_units
from orders.payments.base import (
    OUTCOME_DISPUTED,
    OUTCOME_EXPIRED,
    OUTCOME_FAILED,
    OUTCOME_IGNORED,
    OUTCOME_PAID,
    OUTCOME_PENDING,
    OUTCOME_REFUNDED,
    PaymentGateway,
    PaymentStart,
    PaymentUpdate,
    RefundInfo,
    RefundResult,
    VerifiedEvent,
)

SIGNATURE_HEADER = "Test-Signature"


def signing_secret() -> str:
    """The test gateway's webhook signing secret, derived from SECRET_KEY."""
    return hmac.new(settings.SECRET_KEY.encode(), b"test-gateway", hashlib.sha256).hexdigest()


def build_event(event_type: str, payment, **fields) -> bytes:
    """A Stripe-shaped event about ``payment``'s checkout session, as JSON bytes."""
    session = {
        "id": payment.external_reference,
        "object": "checkout.session",
        "amount_total": to_minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        **fields,
    }
    event = {"id": f"evt_test_{uuid.uuid4().hex}", "type": event_type, "data": {"object": session}}
    return json.dumps(event).encode()


class TestGateway(PaymentGateway):
    __test__ = False  # not a pytest test class
    key = "test"

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        reference = f"cs_test_{payment.idempotency_key}"
        url = reverse("test_checkout", args=[reference])
        if success_url:
            url += "?" + urlencode({"next": success_url})
        return PaymentStart(redirect_url=url, external_reference=reference)

    def verify_event(self, body: bytes, headers) -> VerifiedEvent:
        return signing.verified_event(body, headers.get(SIGNATURE_HEADER), signing_secret())

    def read_event(self, event: VerifiedEvent) -> PaymentUpdate:
        session = event.payload["data"]["object"]
        currency = session.get("currency", "").upper()
        amount = from_minor_units(session["amount_total"], currency)
        outcome = {
            "checkout.session.async_payment_succeeded": OUTCOME_PAID,
            "checkout.session.async_payment_failed": OUTCOME_FAILED,
            "payment_intent.payment_failed": OUTCOME_FAILED,
            "checkout.session.expired": OUTCOME_EXPIRED,
            "charge.refunded": OUTCOME_REFUNDED,
            "charge.dispute.created": OUTCOME_DISPUTED,
        }.get(event.event_type, OUTCOME_IGNORED)
        if event.event_type == "checkout.session.completed":
            outcome = OUTCOME_PAID if session.get("payment_status") == "paid" else OUTCOME_PENDING
        refunds = [
            RefundInfo(item["id"], from_minor_units(item["amount"], currency))
            for item in session.get("refunds", [])
        ]
        return PaymentUpdate(session["id"], outcome, amount, currency, refunds)

    def refund(self, refund) -> RefundResult:
        return RefundResult(f"re_test_{refund.idempotency_key}")
