"""Saved cards for auto-renew: set a card up (Checkout in setup mode), charge it off-session.

Stripe: a Customer, a Checkout Session in ``setup`` mode, then PaymentIntents with
``off_session=true, confirm=true``; a removed card's PaymentMethod is detached. The test
gateway does the same with its own setup page and tokens: a token containing ``decline`` is a
card whose off-session charges are declined.
"""

from dataclasses import dataclass

import stripe
from django.urls import reverse
from django.utils.http import urlencode

from core.money import to_minor_units
from orders.payments.base import GatewayError
from orders.payments.stripe import StripeGateway, _id, stripe_errors

DECLINE_MARKER = "decline"


@dataclass(frozen=True)
class SetupStart:
    redirect_url: str
    setup_reference: str
    customer_reference: str = ""


@dataclass(frozen=True)
class SavedCard:
    customer_reference: str
    payment_method_reference: str
    label: str


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str = ""  # the payment intent id
    error: str = ""


def card_label(brand: str, last4: str) -> str:
    return f"{(brand or 'card').title()} •••• {last4 or '????'}"


def is_setup_event(event_type: str, payload: dict) -> bool:
    """A Checkout Session completed in setup mode (a card was saved, no payment)."""
    obj = (payload.get("data") or {}).get("object") or {}
    return event_type == "checkout.session.completed" and obj.get("mode") == "setup"


def setup_reference_of(payload: dict) -> str:
    return ((payload.get("data") or {}).get("object") or {}).get("id", "")


def setup_marker(payload: dict) -> str:
    """The saved card id our setup sessions carry in their metadata; "" on anyone else's."""
    obj = (payload.get("data") or {}).get("object") or {}
    return str((obj.get("metadata") or {}).get("saved_payment_method_id") or "")


# Stripe


def stripe_customer(client, customer, existing_reference: str = "") -> str:
    """Our Stripe Customer for ``customer`` (created once: the idempotency key is per user)."""
    if existing_reference:
        return existing_reference
    created = client.v1.customers.create(
        {"email": customer.email, "metadata": {"user_id": str(customer.pk)}},
        {"idempotency_key": f"customer-{customer.pk}"},
    )
    return created.id


def stripe_start_setup(method, *, return_url: str, cancel_url: str) -> SetupStart:
    client = StripeGateway()._client()
    with stripe_errors():
        customer_reference = stripe_customer(client, method.customer, method.customer_reference)
        session = client.v1.checkout.sessions.create(
            {
                "mode": "setup",
                "customer": customer_reference,
                "payment_method_types": ["card"],
                "metadata": {"saved_payment_method_id": str(method.pk)},
                "success_url": return_url,
                "cancel_url": cancel_url,
            },
            {"idempotency_key": f"card-setup-{method.setup_token}"},
        )
    return SetupStart(session.url, session.id, customer_reference)


def stripe_read_setup(setup_reference: str) -> SavedCard | None:
    """Re-read the setup session from Stripe; None unless its SetupIntent succeeded."""
    client = StripeGateway()._client()
    with stripe_errors():
        session = client.v1.checkout.sessions.retrieve(
            setup_reference, {"expand": ["setup_intent.payment_method"]}
        )
    intent = getattr(session, "setup_intent", None)
    if not intent or isinstance(intent, str) or intent.status != "succeeded":
        return None
    method = intent.payment_method
    card = getattr(method, "card", None)
    label = card_label(card.brand, card.last4) if card else card_label("", "")
    return SavedCard(_id(getattr(session, "customer", None)), method.id, label)


def stripe_charge(method, *, amount, currency, idempotency_key, metadata) -> ChargeResult:
    """An off-session PaymentIntent confirmed at once; a decline is a result, not an error."""
    client = StripeGateway()._client()
    params = {
        "amount": to_minor_units(amount, currency),
        "currency": currency.lower(),
        "customer": method.customer_reference,
        "payment_method": method.payment_method_reference,
        "off_session": True,
        "confirm": True,
        "metadata": metadata,
    }
    try:
        with stripe_errors():
            try:
                intent = client.v1.payment_intents.create(
                    params, {"idempotency_key": idempotency_key}
                )
            except stripe.CardError as exc:
                error = exc.error
                intent_id = _id(getattr(error, "payment_intent", None)) if error else ""
                code = (error and (error.decline_code or error.code)) or "card_declined"
                return ChargeResult(False, intent_id, code)
    except GatewayError as exc:
        if exc.transient:
            raise
        return ChargeResult(False, "", str(exc))
    if intent.status == "succeeded":
        return ChargeResult(True, intent.id)
    return ChargeResult(False, intent.id, intent.status)  # requires_action, processing, …


def stripe_detach(method) -> None:
    """Detach the PaymentMethod from its Customer: Stripe refuses to charge it after that."""
    client = StripeGateway()._client()
    with stripe_errors():
        client.v1.payment_methods.detach(method.payment_method_reference)


# The test gateway


def sandbox_start_setup(method, *, return_url: str, cancel_url: str) -> SetupStart:
    reference = f"cs_test_setup_{method.setup_token}"
    url = reverse("test_card_setup", args=[method.setup_token])
    url += "?" + urlencode({"next": return_url, "cancel": cancel_url})
    return SetupStart(url, reference, f"cus_test_{method.customer_id}")


def sandbox_read_setup(payload: dict) -> SavedCard | None:
    session = payload["data"]["object"]
    intent = session.get("setup_intent") or {}
    if intent.get("status") != "succeeded":
        return None
    method = intent.get("payment_method") or {}
    card = method.get("card") or {}
    label = card_label(card.get("brand", ""), card.get("last4", ""))
    return SavedCard(session.get("customer", ""), method.get("id", ""), label)


def sandbox_charge(method, *, amount, currency, idempotency_key, metadata) -> ChargeResult:
    reference = f"pi_test_{idempotency_key}"
    if DECLINE_MARKER in method.payment_method_reference:
        return ChargeResult(False, reference, "card_declined")
    return ChargeResult(True, reference)


def start_setup(method, *, return_url: str, cancel_url: str) -> SetupStart:
    starter = stripe_start_setup if method.gateway == "stripe" else sandbox_start_setup
    return starter(method, return_url=return_url, cancel_url=cancel_url)


def read_setup(gateway: str, payload: dict) -> SavedCard | None:
    if gateway == "stripe":
        return stripe_read_setup(setup_reference_of(payload))
    return sandbox_read_setup(payload)


def charge(method, **kwargs) -> ChargeResult:
    return (stripe_charge if method.gateway == "stripe" else sandbox_charge)(method, **kwargs)


def detach(method) -> None:
    """Forget a removed card at the gateway (the test gateway keeps nothing to forget)."""
    if method.gateway == "stripe" and method.payment_method_reference:
        stripe_detach(method)
