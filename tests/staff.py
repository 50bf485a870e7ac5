"""Signing staff in for admin tests: two-factor is required for staff, so sign in with it."""

import time

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)

STAFF_TOTP_SECRET = generate_totp_secret()


def with_totp(user):
    """Give ``user`` an activated TOTP authenticator (once)."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, STAFF_TOTP_SECRET)
    return user


def login_staff(client, user):
    """Sign ``user`` in as after a password and TOTP sign-in; returns the user."""
    with_totp(user)
    client.force_login(user)
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "email": user.email},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return user


# The server accepts the current 30-second window's code only (allauth's TOTP tolerance is 0): a
# code with less time left than this may change before a loaded machine's request checks it.
TOTP_MARGIN_SECONDS = 5


def totp_code(secret: str = STAFF_TOTP_SECRET) -> str:
    """The authenticator app's current code for ``secret``; one about to change is waited out,
    as a person waits for the next code."""
    left = 30 - time.time() % 30
    if left < TOTP_MARGIN_SECONDS:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
