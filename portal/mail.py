"""The email backend of production without ``EMAIL_URL``: it refuses to send rather than print."""

from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend


class UnconfiguredEmailBackend(BaseEmailBackend):
    """Raises on every send, so a missing ``EMAIL_URL`` fails loudly and leaks nothing."""

    def send_messages(self, email_messages):
        if not email_messages:
            return 0
        raise ImproperlyConfigured("EMAIL_URL is not set: production sends no email without it.")
