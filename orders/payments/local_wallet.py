"""Pakistan's mobile wallets (JazzCash, Easypaisa) as gateways beside Stripe.

Each wallet offers two methods: a hosted checkout (the customer's browser posts a signed form to
the wallet's page and comes back) and a direct charge of a mobile account (the customer types the
wallet number and approves on the phone). Callbacks (the browser's return, the IPN) are only
triggers: the payment's state is always read again from the wallet's inquiry API.

A wallet talks over a ``Transport``: HTTP to the wallet in production, or in-process to the
built-in fake (orders/payments/fakes/) that verifies and signs exactly as the real one does.
"""

import hashlib
import hmac
import json
import random
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from orders.payments.base import (
    GatewayError,
    MalformedEvent,
    PaymentGateway,
    PaymentStart,
    PaymentUpdate,
    SignatureError,
    VerifiedEvent,
)

PAKISTAN = ZoneInfo("Asia/Karachi")
TIMEOUT_SECONDS = 30
REFERENCE_KEY = "reference"  # where a verified callback's payload names our attempt


def direct_method(hosted: str) -> str:
    """The direct (mobile account) method's key for a wallet's hosted method key."""
    return f"{hosted}_mobile"


def pakistan_time(moment: datetime) -> str:
    """``moment`` as the wallets write times: yyyyMMddHHmmss in Pakistan time."""
    return timezone.localtime(moment, PAKISTAN).strftime("%Y%m%d%H%M%S")


def new_attempt_reference(payment) -> str:
    """A merchant reference unique per attempt, at most 20 letters and digits (pp_TxnRefNo)."""
    stamp = timezone.localtime(timezone.now(), PAKISTAN).strftime("%y%m%d%H%M%S")
    return f"T{stamp}{payment.pk % 10**5:05d}{random.randrange(10):d}"


def raw_status(code: str, message) -> str:
    """A wallet's answer as kept for staff: its code and message, as it said them."""
    return f"{code} {message or ''!s}".strip()[:200]


def callback_event(source: str, kind: str, fields: Mapping[str, str]) -> VerifiedEvent:
    """A verified callback as an event: its id is a digest of every field, so the very same
    callback sent twice (or the return and the IPN saying the same) is recorded once."""
    reference = fields.get(REFERENCE_KEY, "")
    if not reference:
        raise MalformedEvent("the callback names no transaction", event_type=kind)
    canonical = json.dumps(dict(sorted(fields.items())), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:40]
    return VerifiedEvent(f"{source}-{digest}", kind, dict(fields))


def callback_fields(body: bytes, content_type: str = "") -> dict[str, str]:
    """A callback's fields from a JSON object or a form-encoded body, as strings.

    SignatureError when the body is neither: nothing unreadable is recorded.
    """
    text = body.decode("utf-8", errors="strict") if body else ""
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SignatureError("the callback is not valid JSON") from exc
        if not isinstance(data, dict):
            raise SignatureError("the callback is not a JSON object")
        return {str(k): "" if v is None else str(v) for k, v in data.items()}
    return dict(parse_qsl(text, keep_blank_values=True))


class Transport:
    """Sends a wallet API request and returns the decoded JSON answer."""

    def post(self, url: str, *, json_body=None, form=None, headers=None) -> dict:
        raise NotImplementedError


class HttpTransport(Transport):
    """The wallet over HTTPS; timeouts, connection errors and 5xx are transient."""

    def post(self, url: str, *, json_body=None, form=None, headers=None) -> dict:
        try:
            response = requests.post(
                url, json=json_body, data=form, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            raise GatewayError(f"{url}: {type(exc).__name__}", transient=True) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayError(f"{url}: HTTP {response.status_code}", transient=True)
        if response.status_code >= 400:
            raise GatewayError(f"{url}: HTTP {response.status_code} {response.text[:200]}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise GatewayError(f"{url}: the answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise GatewayError(f"{url}: the answer is not a JSON object")
        return answer


class InProcessTransport(Transport):
    """Sends requests to a built-in fake's handler instead of the network, JSON in and out."""

    def __init__(self, handle):
        self.handle = handle  # handle(url, body: dict, headers: dict) -> dict

    def post(self, url: str, *, json_body=None, form=None, headers=None) -> dict:
        body = json.loads(json.dumps(json_body if json_body is not None else form or {}))
        return json.loads(json.dumps(self.handle(url, body, dict(headers or {}))))


def is_fake(key: str) -> bool:
    """Whether wallet ``key`` runs as its built-in fake (no merchant account configured)."""
    return settings.LOCAL_WALLETS.get(key) == "fake"


def fake_secret(key: str, name: str) -> str:
    """A credential of a wallet's fake, derived from SECRET_KEY (stable, never configured)."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"{key}-fake-{name}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


@dataclass(frozen=True)
class CheckoutForm:
    """The signed form the customer's browser posts to the wallet's hosted checkout."""

    action: str
    fields: dict[str, str]


class LocalWalletGateway(PaymentGateway):
    """What JazzCash and Easypaisa share: start, callbacks as triggers, status by inquiry."""

    runs_locally = False
    key: str

    @property
    def hosted_method(self) -> str:
        return self.key

    @property
    def direct_method(self) -> str:
        return direct_method(self.key)

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        """Hosted: send the customer to our hand-off page, which posts the signed form.
        Direct: the charge is asked for by a task (``charge_mobile_account``); the customer
        waits on the order page to approve on the phone."""
        reference = payment.external_reference or new_attempt_reference(payment)
        if payment.method == self.direct_method:
            return PaymentStart(redirect_url=success_url, external_reference=reference)
        url = reverse("wallet_checkout", args=[self.key, reference])
        return PaymentStart(redirect_url=url, external_reference=reference)

    def expiry_of(self, payment) -> datetime:
        """When the attempt stops being payable (sent to the wallet as its expiry)."""
        if payment.expires_at:
            return payment.expires_at
        return payment.created_at + timedelta(minutes=settings.WALLET_PAYMENT_MINUTES)

    def return_url(self) -> str:
        """Where the hosted checkout sends the customer's browser back (absolute)."""
        return settings.SITE_URL.rstrip("/") + reverse("wallet_return", args=[self.key])

    def verify_event(self, body: bytes, headers) -> VerifiedEvent:
        """An IPN posted to /webhooks/<wallet>/: its fields checked like a return's."""
        try:
            fields = callback_fields(body, headers.get("Content-Type", ""))
        except UnicodeDecodeError as exc:
            raise SignatureError("the callback is not UTF-8") from exc
        return self.verify_callback(fields, kind="ipn")

    def read_event(self, event: VerifiedEvent) -> PaymentUpdate:
        """A callback names an attempt; what happened is asked of the inquiry API."""
        from orders.models import Payment

        reference = str(event.payload.get(REFERENCE_KEY, ""))
        payment = Payment.objects.filter(gateway=self.key, external_reference=reference).first()
        if payment is None:
            return PaymentUpdate(reference, "ignored", note=f"no attempt {reference!r}")
        return self.inquire(payment)

    @abstractmethod
    def checkout_form(self, payment) -> CheckoutForm:
        """The hosted checkout's signed form for ``payment`` (amounts in paisa, Pakistan time)."""

    @abstractmethod
    def charge_mobile_account(self, payment) -> PaymentUpdate:
        """Ask the wallet to charge ``payment.payer_account``; the immediate answer (often
        pending until the customer approves on the phone)."""

    @abstractmethod
    def inquire(self, payment) -> PaymentUpdate:
        """The attempt's status as the wallet's inquiry API reports it now (the truth)."""

    @abstractmethod
    def verify_callback(self, fields: Mapping[str, str], *, kind: str) -> VerifiedEvent:
        """Check a return or IPN callback on every field (its hash, merchant, amount format);
        SignatureError if forged, MalformedEvent if signed but unusable. The event's payload
        names the attempt under ``REFERENCE_KEY``."""

    def return_step(self, fields: Mapping[str, str]) -> CheckoutForm | None:
        """A further signed hop the wallet needs before its final return, or None."""
        return None

    def acknowledge(self, event: VerifiedEvent | None) -> tuple[str, str]:
        """(content type, body) the wallet expects back from an IPN."""
        return "text/plain", "OK"
