"""Signing outgoing webhooks the Standard Webhooks way (https://www.standardwebhooks.com).

Every delivery attempt carries three headers::

    webhook-id: <message id>              the event's id: the same on every retry of a delivery
    webhook-timestamp: <unix seconds>     when this attempt was signed
    webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">

Several keys valid at once (a secret rotation's overlap) give several space-separated
signatures; a receiver accepts the request if any of them matches its key.

Secrets are ``whsec_<standard base64 of the key bytes>``, the form the ready-made libraries take
as they are. Secrets issued before this format (``whsec_`` + 43 URL-safe characters, which are
never valid padded base64) keep signing with the key they always had: the whole secret text as
UTF-8 bytes, so nothing stored needs changing. A receiver holding one gives its library
``"whsec_" + base64(secret)`` (docs/partner-webhooks.md).

Only the sending side lives here; incoming gateway events are verified in
``core.signing`` (a different scheme).
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret() -> str:
    """A new signing secret: ``whsec_`` + standard base64 of 32 random bytes (50 characters)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key a stored secret stands for.

    ``whsec_<valid padded standard base64>`` → the decoded bytes (the standard's format).
    Anything else, including secrets of the earlier format → the secret text's UTF-8 bytes,
    the key that signed with it before.
    """
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if key:
            return key
    if not secret:
        raise ValueError("An empty webhook secret cannot sign.")
    return secret.encode()


def standard_form(secret: str) -> str:
    """``secret`` written as the libraries read it (``whsec_`` + base64 of its key)."""
    return SECRET_PREFIX + base64.b64encode(key_of(secret)).decode()


def signature(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """One ``v1,<base64>`` signature of ``body`` sent as message ``msg_id`` at ``timestamp``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode()}"


def sign_headers(
    msg_id: str, body: bytes, secrets_: Iterable[str], timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, signed with every secret given."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    keys = list(dict.fromkeys(s for s in secrets_ if s))
    if not keys:
        raise ValueError("A webhook needs at least one secret to be signed with.")
    if not msg_id or any(ch in msg_id for ch in " \r\n"):
        raise ValueError("A webhook id must be non-empty, without spaces or line breaks.")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(msg_id, timestamp, body, s) for s in keys),
    }
