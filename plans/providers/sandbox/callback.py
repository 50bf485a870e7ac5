"""The sandbox's signed ``usage.updated`` callback: building it and reading it back.

Signed like our other webhooks (``t=…,v1=HMAC-SHA256``) with the provider's callback secret.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import signing
from core.signing import SignatureError
from plans.providers.base import CallbackError, CallbackEvent, Usage

SIGNATURE_HEADER = "X-Sandbox-Signature"
USAGE_STATUSES = {"issued", "active", "expired", "cancelled"}


def callback_secret(provider) -> str:
    """The provider's callback signing secret: its settings, else derived from SECRET_KEY."""
    configured = (provider.settings or {}).get("callback_secret")
    if configured:
        return configured
    message = f"provider-callback:{provider.pk}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def build(provider, *, event_id: str, iccid: str, usage: Usage, secret: str | None = None):
    """A signed ``usage.updated`` callback as the sandbox sends it: (raw body, headers)."""
    body = json.dumps(
        {
            "event_id": event_id,
            "type": "usage.updated",
            "iccid": iccid,
            "data_total_mb": usage.data_total_mb,
            "data_remaining_mb": usage.data_remaining_mb,
            "expires_at": usage.expires_at.isoformat() if usage.expires_at else None,
            "status": usage.status,
            "as_of": usage.as_of.isoformat(),
        }
    ).encode()
    signature = signing.sign(body, secret or callback_secret(provider))
    return body, {SIGNATURE_HEADER: signature}


def parse(provider, *, headers, body: bytes) -> CallbackEvent:
    """Verify the signature and read the reading; CallbackError if either fails."""
    try:
        signing.verify(body, headers.get(SIGNATURE_HEADER), callback_secret(provider))
    except SignatureError as exc:
        raise CallbackError("invalid_signature", str(exc)) from exc
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise _invalid("Body is not JSON.") from exc
    if not isinstance(payload, dict) or payload.get("type") != "usage.updated":
        raise _invalid("Not a usage.updated event.")
    event_id, iccid = payload.get("event_id"), payload.get("iccid")
    if not isinstance(event_id, str) or not event_id or not isinstance(iccid, str) or not iccid:
        raise _invalid("event_id and iccid are required.")
    if payload.get("status") not in USAGE_STATUSES:
        raise _invalid("Unknown status.")
    as_of = _datetime(payload.get("as_of"), "as_of")
    if as_of is None:
        raise _invalid("as_of is required.")
    usage = Usage(
        data_total_mb=_megabytes(payload.get("data_total_mb"), "data_total_mb"),
        data_remaining_mb=_megabytes(payload.get("data_remaining_mb"), "data_remaining_mb"),
        expires_at=_datetime(payload.get("expires_at"), "expires_at"),
        status=payload["status"],
        as_of=as_of,
    )
    return CallbackEvent(event_id, payload["type"], iccid, payload, usage)


def _invalid(detail: str) -> CallbackError:
    return CallbackError("invalid_callback", detail)


def _megabytes(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"{name} must be a non-negative integer.")
    return value


def _datetime(value, name: str):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise _invalid(f"{name} must be an ISO 8601 time with a UTC offset.")
    return parsed
