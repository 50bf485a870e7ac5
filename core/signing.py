"""Stripe-style webhook signatures (``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``).

Used to sign and verify the test gateway's events (so they take the same path as Stripe's) and
the sandbox provider's callbacks.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

DEFAULT_TOLERANCE_SECONDS = 300
MAX_EVENT_ID_LENGTH = 255
MAX_EVENT_TYPE_LENGTH = 100


class SignatureError(Exception):
    """A webhook whose signature, secret or timestamp does not check out."""


class MalformedEvent(Exception):
    """A correctly signed event whose envelope (id, type, data) cannot be used.

    Recorded and closed as failed with ``reason`` (under a stand-in id when its own is unusable),
    never retried.
    """

    def __init__(self, reason: str, *, payload=None, event_id: str = "", event_type: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.payload = payload
        self.event_id = event_id
        self.event_type = event_type


@dataclass(frozen=True)
class VerifiedEvent:
    event_id: str
    event_type: str
    payload: dict


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value for ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    body: bytes, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> None:
    """Raise SignatureError unless ``header`` signs ``body`` with ``secret`` within tolerance."""
    if not header or not secret:
        raise SignatureError("Missing signature header or secret.")
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise SignatureError("Malformed signature header.")
    timestamp = int(timestamps[0])
    if abs(time.time() - timestamp) > tolerance:
        raise SignatureError("Signature timestamp outside the tolerance.")
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("Signature does not match.")


def verified_event(
    body: bytes, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> VerifiedEvent:
    """Verify ``body`` against its signature header and parse it as a Stripe-shaped event.

    Raises SignatureError for a body that does not verify, MalformedEvent for a signed body that
    is not a usable event (not JSON, an id or type that is not a short string, no data object).
    """
    verify(body, header, secret, tolerance)
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise MalformedEvent("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("the body is not a JSON object")
    event_id, event_type = payload.get("id"), payload.get("type")
    if not _short_text(event_id, MAX_EVENT_ID_LENGTH):
        raise MalformedEvent("the event id is not a short string", payload=payload)
    if not _short_text(event_type, MAX_EVENT_TYPE_LENGTH):
        raise MalformedEvent("the event type is not a short string", payload=payload)
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent(
            "the event has no data object",
            payload=payload,
            event_id=event_id,
            event_type=event_type,
        )
    return VerifiedEvent(event_id, event_type, payload)


def _short_text(value, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length and value.isprintable()
