"""Sessions kept in the database and read through the shared cache (Django's ``cached_db``)."""

import logging

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.contrib.sessions.backends.db import SessionStore as DbStore

from core.cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


class SessionStore(CachedDbStore):
    """``cached_db`` sessions that read the database when the cache does not answer, and whose
    end starts in the cache.

    Django deletes the row first, then the cached copy: a cache that did not answer then would
    bring the ended session back once it answers again. Here the copy goes first (a failure
    changes nothing and fails the request), then the row, then the copy again (a request that
    read the row meanwhile may have cached it).
    """

    def load(self):
        """The session from the cache, else from the database (and cached); signed in through
        a backend since renamed (``RENAMED_AUTHENTICATION_BACKENDS``), through its new name."""
        try:
            data = super().load()
        except CACHE_ERRORS as error:
            logger.warning("Session read from the database, the cache does not answer: %r", error)
            data = DbStore.load(self)
        renamed = settings.RENAMED_AUTHENTICATION_BACKENDS.get(data.get(BACKEND_SESSION_KEY))
        if renamed:
            data[BACKEND_SESSION_KEY] = renamed
        return data

    def exists(self, session_key):
        """Whether the key is taken, in the cache or the database."""
        try:
            return super().exists(session_key)
        except CACHE_ERRORS:
            return DbStore.exists(self, session_key)

    def delete(self, session_key=None):
        """End the session everywhere: in the cache, the database, and the cache again."""
        key = self.session_key if session_key is None else session_key
        if key is None:
            return
        self._cache.delete(self.cache_key_prefix + key)
        super().delete(key)
