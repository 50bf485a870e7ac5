"""The unread-notification count in every signed-in page's header, kept in the shared cache.

Each user has a generation in the cache, an opaque random token, and their count is kept with
the token it was counted under: one ``MGET`` reads both, and the count stands while the token
is the same. Every write that can change a user's count retires their token (:func:`changed`),
at once and again after the transaction commits, so a reader between the two cannot keep what
it counted before the commit. Saves and deletes of a notification (the admin, cascades) do it
through ``post_save``/``post_delete`` (:func:`connect`); ``QuerySet.update()`` and
``bulk_create()`` send no signal, so code that uses them on notifications calls
:func:`changed` (``tests/orders/test_unread_count.py`` holds the apps to it).

The token is read, or started, before counting: a write that commits after the count retires
the token the count was kept under. Entries expire after :data:`TTL_SECONDS`, so a change
whose retirement never reached the cache (the cache down at that moment) shows within that
time. Only with a cache every process shares (``settings.CACHE_SHARED``): a per-process cache
would not see another process's writes; without one, every page counts.
"""

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from core.cache import CACHE_ERRORS
from core.db import now_and_after_commit
from orders.models import Notification

TTL_SECONDS = 10 * 60
logger = logging.getLogger(__name__)


def unread_count(user_id: int) -> int:
    """The user's unread notifications: from the cache while their token stands, else counted."""
    if not settings.CACHE_SHARED:
        return _count(user_id)
    token_key, count_key = f"unread:{user_id}:token", f"unread:{user_id}:count"
    try:
        found = cache.get_many([token_key, count_key])
        token, kept = found.get(token_key), found.get(count_key)
        if token is not None and kept is not None and kept[0] == token:
            return kept[1]
        if token is None:
            cache.add(token_key, uuid.uuid4().hex, TTL_SECONDS)
            token = cache.get(token_key)
        count = _count(user_id)
        if token is not None:
            cache.set(count_key, (token, count), TTL_SECONDS)
        return count
    except CACHE_ERRORS as error:
        logger.warning("Unread count not cached, the cache does not answer: %r", error)
        return _count(user_id)


def changed(user_ids: Iterable[int | None]) -> None:
    """Retire these users' counts now and once the transaction commits."""
    keys = [f"unread:{user_id}:token" for user_id in set(user_ids) if user_id is not None]
    if keys and settings.CACHE_SHARED:
        now_and_after_commit(lambda: _retire(keys))


def connect() -> None:
    """Retire the owner's count on every save and delete of a notification."""
    post_save.connect(_saved, sender=Notification, dispatch_uid="unread-count-save")
    post_delete.connect(_saved, sender=Notification, dispatch_uid="unread-count-delete")


def _saved(sender, instance, **kwargs) -> None:
    changed([instance.user_id])


def _retire(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except CACHE_ERRORS as error:
        logger.error("Unread counts not retired, the cache does not answer: %r", error)


def _count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
