"""Signing staff in for admin tests: two-factor is required for staff, so sign in with it."""

import time

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

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
