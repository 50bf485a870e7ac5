"""Optional error reports to Sentry, only when ``SENTRY_DSN`` is set (portal/settings.py).

No personal data is sent (``send_default_pii=False``), and every event passes ``before_send``,
which replaces activation codes, partner API keys and email addresses wherever they appear.
"""

import re

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

SCRUBBED = "[scrubbed]"
SECRET_PATTERNS = (
    re.compile(r"LPA:1\$[^\s\"']+"),  # eSIM activation codes
    re.compile(r"\b[0-9a-f]{12}\.[A-Za-z0-9_-]{20,}"),  # partner API keys: <prefix>.<secret>
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
)
SECRET_KEYS = ("activation_code", "api_key", "authorization", "email", "password", "secret")


def scrub(value):
    """``value`` with every secret found in its strings, and under secret keys, replaced."""
    if isinstance(value, str):
        for pattern in SECRET_PATTERNS:
            value = pattern.sub(SCRUBBED, value)
        return value
    if isinstance(value, dict):
        return {
            key: SCRUBBED
            if isinstance(key, str) and any(word in key.lower() for word in SECRET_KEYS)
            else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def before_send(event, hint):
    """Sentry's last look at an event: secrets scrubbed."""
    return scrub(event)


def init_sentry(
    *, dsn: str, environment: str, release: str, traces_sample_rate: float, **options
) -> None:
    """Start the Sentry SDK for Django and Celery (``options``: e.g. a test's transport)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=before_send,
        before_send_transaction=before_send,
        **options,
    )
