"""The presented API key, checked once per request: one round trip to the cache and, for a key
seen in the last minutes, no database query (docs/decisions.md, "API keys are checked from the
cache").

The record of a key whose secret matched (its partner, allowed addresses, expiry, revocation and
the partner's state, price tier and currency) is cached under the key's prefix and a hash of its
HMAC: only the right secret finds it, and neither the secret nor the HMAC is in the cache. Saving
or deleting a key or its partner (``revoke_api_key``, the admin, a cascade) marks its records stale
in the shared cache, at once and again after commit, so the change holds from the very next
request in every process.

Records are stored under a versioned name (:data:`RECORD_VERSION`): a process of an older release
never reads a record whose fields it does not know, and stale marks are written under the
previous version's names too, so its processes see every change during a rolling upgrade. A
record whose fields do not match is taken as not cached.
"""

import hashlib
import json
import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache, partial

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import ApiKey, Partner
from accounts.services import hash_api_key_secret, matching_api_key
from core.api import gate
from core.db import now_and_after_commit

RECORD_VERSION = "v2"  # bump whenever VerifiedKey's fields change
PREVIOUS_RECORD_VERSIONS = ("",)  # names still read by the previous release
RECORD_SECONDS = 300  # a bound for changes made around the models (``QuerySet.update``)
LAST_USED_RESOLUTION = timedelta(minutes=1)
CHECK_ATTRIBUTE = "api_key_check"
SAFE_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,32}")


def bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@dataclass(frozen=True)
class VerifiedKey:
    """A key whose secret matched, as cached: usable or not (``is_usable`` says)."""

    pk: int
    prefix: str
    partner_id: int
    allowed_ips: tuple[str, ...]
    expires_at: datetime | None
    revoked: bool
    partner_active: bool
    tier: str  # the partner's price tier and wallet currency: the catalog's pricing
    currency: str

    @classmethod
    def of(cls, api_key: ApiKey) -> "VerifiedKey":
        return cls(
            pk=api_key.pk,
            prefix=api_key.prefix,
            partner_id=api_key.partner_id,
            allowed_ips=tuple(api_key.allowed_ips),
            expires_at=api_key.expires_at,
            revoked=api_key.revoked_at is not None,
            partner_active=api_key.partner.is_active,
            tier=api_key.partner.tier,
            currency=api_key.partner.currency,
        )

    @classmethod
    def from_record(cls, record: str) -> "VerifiedKey | None":
        """The key a record holds; None when its fields are not this release's (read once per
        record and process: a record is immutable, its key frozen)."""
        return _key_of_record(record)

    @classmethod
    def _read(cls, record: str) -> "VerifiedKey | None":
        data = json.loads(record)
        if data.keys() != RECORD_FIELDS:
            return None
        expires_at = data["expires_at"] and parse_datetime(data["expires_at"])
        return cls(**{**data, "allowed_ips": tuple(data["allowed_ips"]), "expires_at": expires_at})

    def record(self) -> str:
        expires_at = self.expires_at and self.expires_at.isoformat()
        return json.dumps({**self.__dict__, "expires_at": expires_at})

    @property
    def is_usable(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return not self.revoked and self.partner_active and not expired


RECORD_FIELDS = {field.name for field in fields(VerifiedKey)}
_key_of_record = lru_cache(maxsize=1024)(VerifiedKey._read)


@dataclass(frozen=True)
class KeyCheck:
    blocked: bool = False  # the address presented too many wrong keys: refused unread
    key: VerifiedKey | None = None  # None: no key has this prefix and secret
    first_use: bool = False  # the key's first request this minute: record its last use
    partner: Partner | None = None  # the partner, when read from the database with the key


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cache_label(prefix: str) -> str:
    """The prefix as it may appear in a cache key (what a caller sent can be anything)."""
    return prefix if SAFE_PREFIX.fullmatch(prefix) else f"~{_digest(prefix)}"


def record_key(prefix: str, secret_hash: str, version: str = RECORD_VERSION) -> str:
    version = f"{version}:" if version else ""
    return f"api-key:{version}{cache_label(prefix)}:{_digest(secret_hash)}"


def check_presented_key(request) -> KeyCheck | None:
    """The request's bearer key, checked once per request (kept on it); None without one."""
    request = getattr(request, "_request", request)
    if not hasattr(request, CHECK_ATTRIBUTE):
        token = bearer_token(request)
        setattr(request, CHECK_ATTRIBUTE, _check(request, token) if token else None)
    return getattr(request, CHECK_ATTRIBUTE)


def _check(request, token: str) -> KeyCheck:
    prefix, _, secret = token.partition(".")
    secret_hash = hash_api_key_secret(secret) if prefix and secret else ""
    label, read_along = cache_label(prefix), gate.read_along_of()
    names = gate.names(client_ip(request), record_key(prefix, secret_hash), label, read_along)
    passed = gate.pass_gate(names)
    if passed.blocked:
        return KeyCheck(blocked=True)
    first_use, partner = passed.first_use, None
    cached = passed.record and VerifiedKey.from_record(passed.record)
    if cached:
        key = cached
    elif secret_hash and (api_key := matching_api_key(prefix, secret_hash)) is not None:
        key, partner = VerifiedKey.of(api_key), api_key.partner
        if passed.record is None:  # else a record of other fields: left to expire, not refilled
            passed = gate.fill(names, key.record(), RECORD_SECONDS, passed)
        last_used = api_key.last_used_at
        stale_use = last_used is None or timezone.now() - last_used > LAST_USED_RESOLUTION
        first_use = passed.first_use or (not passed.count and stale_use)  # cache cut off
    else:
        key = None
    gate.remember(request, passed)
    return KeyCheck(key=key, first_use=first_use, partner=partner)


def forget_api_keys(keys) -> None:
    """Mark the cached records of ``keys`` (``(prefix, secret_hash)`` pairs) stale, at once and
    after commit (a request that read the database meanwhile cannot store an outdated record)."""
    versions = (RECORD_VERSION, *PREVIOUS_RECORD_VERSIONS)
    record_keys = [
        record_key(prefix, secret_hash, version)
        for prefix, secret_hash in keys
        for version in versions
    ]
    if record_keys:
        now_and_after_commit(partial(gate.mark_stale, record_keys))


def _key_changed(sender, instance, created=False, **kwargs):
    if not created:
        forget_api_keys([(instance.prefix, instance.secret_hash)])


def _partner_changed(sender, instance, created=False, **kwargs):
    if not created:
        forget_api_keys(instance.api_keys.values_list("prefix", "secret_hash"))


def connect_signals() -> None:
    """Forget cached keys whenever a key or a partner is saved or deleted, whatever the path."""
    post_save.connect(_key_changed, sender=ApiKey, dispatch_uid="api-key-saved")
    post_delete.connect(_key_changed, sender=ApiKey, dispatch_uid="api-key-deleted")
    post_save.connect(_partner_changed, sender=Partner, dispatch_uid="partner-saved")
