"""Sending SMS: a tiny interface, a console sender (default, tests) and Twilio.

``get_sender()`` picks the implementation from ``settings.SMS_BACKEND`` ("console" | "twilio").
The console sender keeps what it sent in ``outbox`` (like Django's locmem mail backend).
"""

import itertools
import logging

import requests
from django.conf import settings

from core.logging.redaction import mask

logger = logging.getLogger(__name__)

outbox: list[dict] = []
_console_ids = itertools.count(1)


class SmsError(Exception):
    """A message that could not be sent; ``transient`` errors may succeed if tried again."""

    def __init__(self, message: str, *, transient: bool, code: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.code = code


class SmsSender:
    """Send one text message; return the provider's message id."""

    def send(self, to: str, body: str) -> str:
        raise NotImplementedError


class ConsoleSmsSender(SmsSender):
    """Logs the message and appends it to ``outbox``; sends nothing."""

    def send(self, to: str, body: str) -> str:
        message_id = f"console-{next(_console_ids)}"
        outbox.append({"id": message_id, "to": to, "body": body})
        logger.info("SMS to %s: %s", mask(to), body)
        return message_id


class TwilioSmsSender(SmsSender):
    """Twilio's Messages API (form-encoded POST, HTTP basic auth with the account SID)."""

    API_URL = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
    TIMEOUT_SECONDS = 10

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number

    def send(self, to: str, body: str) -> str:
        try:
            response = requests.post(
                self.API_URL.format(sid=self.account_sid),
                data={"To": to, "From": self.from_number, "Body": body},
                auth=(self.account_sid, self.auth_token),
                timeout=self.TIMEOUT_SECONDS,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SmsError(f"Twilio unreachable: {exc}", transient=True) from exc
        if response.status_code in (200, 201):
            return response.json()["sid"]
        try:
            details = response.json()
        except ValueError:
            details = {}
        code = details.get("code")
        message = details.get("message") or response.text[:200] or response.reason
        transient = response.status_code == 429 or response.status_code >= 500
        raise SmsError(
            f"Twilio {response.status_code} (code {code}): {message}",
            transient=transient,
            code=code,
        )


def get_sender() -> SmsSender:
    """The sender configured by ``SMS_BACKEND``."""
    backend = getattr(settings, "SMS_BACKEND", "console")
    if backend == "twilio":
        return TwilioSmsSender(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM,
        )
    if backend == "console":
        return ConsoleSmsSender()
    raise ValueError(f"Unknown SMS_BACKEND {backend!r}.")
