"""Writes for accounts: customers, partners and API keys."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, CustomerProfile, Language, Partner, User
from core import audit

API_KEY_PREFIX_BYTES = 6
API_KEY_SECRET_BYTES = 32


def hash_api_key_secret(secret: str) -> str:
    """HMAC-SHA256 of a key's secret with the server-side pepper."""
    return hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    plaintext: str  # "<prefix>.<secret>", shown once and never stored


@transaction.atomic
def issue_api_key(
    *,
    partner: Partner,
    name: str,
    created_by=None,
    prefix: str = "",
    secret: str = "",
    allowed_ips: list[str] | None = None,
    expires_at=None,
) -> IssuedApiKey:
    """Create an API key for ``partner``; the returned plaintext is the only copy."""
    prefix = prefix or secrets.token_hex(API_KEY_PREFIX_BYTES)
    secret = secret or secrets.token_urlsafe(API_KEY_SECRET_BYTES)
    api_key = ApiKey.objects.create(
        partner=partner,
        name=name,
        prefix=prefix,
        secret_hash=hash_api_key_secret(secret),
        created_by=created_by,
        allowed_ips=allowed_ips or [],
        expires_at=expires_at,
    )
    audit.record(action="api_key.issued", target=api_key, actor=created_by)
    return IssuedApiKey(api_key=api_key, plaintext=f"{prefix}.{secret}")


def matching_api_key(prefix: str, secret_hash: str) -> ApiKey | None:
    """The key with ``prefix`` whose stored HMAC is ``secret_hash``, usable or not, with its
    partner (constant-time comparison)."""
    api_key = ApiKey.objects.select_related("partner").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, secret_hash):
        return None
    return api_key


def find_api_key(presented: str) -> ApiKey | None:
    """The usable key matching ``<prefix>.<secret>``, or None, read from the database."""
    prefix, _, secret = presented.partition(".")
    if not prefix or not secret:
        return None
    api_key = matching_api_key(prefix, hash_api_key_secret(secret))
    if api_key is None or not api_key.is_usable or not api_key.partner.is_active:
        return None
    return api_key


@transaction.atomic
def revoke_api_key(*, api_key: ApiKey, actor=None) -> None:
    """Revoke at once; later requests with this key are refused.

    Saving the key marks its cached record stale (``accounts.api.keys``): the very next request
    with it, in any process, reads the revocation from the database.
    """
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(action="api_key.revoked", target=locked, actor=actor)
    api_key.revoked_at = locked.revoked_at


@transaction.atomic
def register_customer(
    *, email: str, password: str, phone: str = "", language: str = Language.CHINESE
) -> User:
    """Create a customer account with its profile."""
    user = User.objects.create_user(email=email, password=password, phone=phone)
    CustomerProfile.objects.create(user=user, preferred_language=language)
    return user


@transaction.atomic
def update_profile(
    *, user: User, phone: str, language: str, notify_by_email: bool, notify_by_sms: bool
) -> CustomerProfile:
    """Save a customer's contact details and preferences."""
    profile, _ = CustomerProfile.objects.select_for_update().get_or_create(user=user)
    before = {
        "phone": user.phone,
        "language": profile.preferred_language,
        "email": profile.notify_by_email,
        "sms": profile.notify_by_sms,
    }
    user.phone = phone
    user.save(update_fields=["phone"])
    profile.preferred_language = language
    profile.notify_by_email = notify_by_email
    profile.notify_by_sms = notify_by_sms
    profile.save()
    after = {"phone": phone, "language": language, "email": notify_by_email, "sms": notify_by_sms}
    if after != before:
        audit.record(action="profile.updated", target=user, actor=user, before=before, after=after)
    return profile


def export_account_data(user: User) -> dict:
    """The account and its preferences, for the customer's data export (orders adds the rest)."""
    profile = CustomerProfile.objects.filter(user=user).first()
    return {
        "account": {
            "email": user.email,
            "phone": user.phone,
            "joined": user.date_joined,
            "first_name": user.first_name,
            "last_name": user.last_name,
        },
        "preferences": profile
        and {
            "language": profile.preferred_language,
            "notify_by_email": profile.notify_by_email,
            "notify_by_sms": profile.notify_by_sms,
        },
    }


@transaction.atomic
def delete_account(*, user: User) -> None:
    """Erase a customer's personal data and close the account.

    Orders, payments and SIM records stay for accounting and the operators' records, attached to
    an anonymous, inactive user.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    user = User.objects.select_for_update().get(pk=user.pk)
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    CustomerProfile.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.phone = user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    audit.record(action="account.deleted", target=user, actor_label="customer")
