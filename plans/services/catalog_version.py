"""The catalog's version: an opaque token in the cache, replaced by every change to what is sold.

Partner catalog answers (their ETags and cached bodies) are keyed by it, so serving one needs no
catalog query, yet no answer outlives a committed change to operators, providers, plans, retail
prices, partner price rules or promotions.

Every save and delete of those rows replaces the token (:func:`connect` hooks ``post_save`` and
``post_delete``): the admin edits operators, providers and plans through Django's generic forms
and inlines, the import, the sync and the price services save rows one by one, so a signal is
the one place no write path, today's or a new one, can miss. ``QuerySet.update()`` and
``bulk_create()`` send no signal: code that uses them on these models calls :func:`bump`
(``tests/plans/test_catalog_version.py`` holds the apps to it).

The token is replaced at once and again after the transaction commits: a reader between the
two may cache what it read before the commit, under the first token, which the second one
retires. A token is random, never a counter, so a cache that was flushed or evicted it starts
a new one that no earlier answer carries. It also expires after :data:`TTL_SECONDS`: a change
whose replacement never reached the cache (the cache down at that moment, the process killed
between commit and replacement) shows within that time.
"""

import logging
import uuid

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from core.api import gate
from core.cache import CACHE_ERRORS
from core.db import now_and_after_commit
from plans.models import Operator, PartnerPriceRule, Plan, PlanPrice, Promotion, Provider

KEY = "catalog:version"
TTL_SECONDS = 60 * 60
CATALOG_MODELS = (Operator, Provider, Plan, PlanPrice, PartnerPriceRule, Promotion)
logger = logging.getLogger(__name__)


def current(read: str | None = None) -> str | None:
    """The catalog's version (a new one if the cache lost it); None if the cache does not answer.

    ``read``: the version as just read from the cache by the caller (the API key's gate reads it
    in the same round trip); read here when None."""
    if read:
        return read
    try:
        version = cache.get(KEY)
        if version is None:
            cache.add(KEY, uuid.uuid4().hex, TTL_SECONDS)
            version = cache.get(KEY)
    except CACHE_ERRORS as error:
        logger.warning("Catalog version not read, the cache does not answer: %r", error)
        return None
    return version


def of_request(request) -> str | None:
    """The catalog's version as the API key's gate read it with ``request`` (every request's
    round trip reads it), else as :func:`current` reads it."""
    return current(gate.read_value(request, KEY))


def bump() -> None:
    """Give the catalog a new version now and again once the current transaction commits."""
    now_and_after_commit(_replace)


def _replace() -> None:
    try:
        cache.set(KEY, uuid.uuid4().hex, TTL_SECONDS)
    except CACHE_ERRORS as error:
        logger.error("Catalog version not replaced, the cache does not answer: %r", error)


def _changed(sender, **kwargs) -> None:
    bump()


def connect() -> None:
    """Replace the version on every save and delete of a catalog row."""
    for model in CATALOG_MODELS:
        uid = f"catalog-version-{model._meta.label_lower}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}-delete")
