"""Rate limits with atomic counters in the cache (Redis in production).

Two limits: requests per API key and clock minute, and failed authentications per client
address and clock window (guessing keys). Both answer 429 ``throttled`` with ``Retry-After``.
Both are read and counted in the request's one round trip to the cache (``core.api.gate``).

When the cache does not answer (Redis down or cut off), the limits let requests through and say
so in the log: a partner's order is worth more than a rate limit missed for a few seconds.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core.api.gate import WINDOW_SECONDS, failures_key, gate_of
from core.cache import CACHE_ERRORS

logger = logging.getLogger(__name__)


def _count(key: str, window_seconds: int) -> int:
    """The window's count after adding one; 0 when the cache does not answer."""
    try:
        cache.add(key, 0, timeout=window_seconds * 2)
        return cache.incr(key)
    except CACHE_ERRORS as error:
        logger.warning("Rate limit not counted, the cache does not answer: %r", error)
        return 0


def _seconds_left(now: float, window: int, window_seconds: int) -> int:
    return max(1, int((window + 1) * window_seconds - now) + 1)


class ApiKeyRateThrottle(BaseThrottle):
    """At most API_RATE_LIMIT_PER_MINUTE requests per key per clock minute.

    The request was counted by the authentication's gate; a request it could not count (the
    cache did not answer) goes through.
    """

    def allow_request(self, request, view):
        gate = gate_of(request)
        if getattr(request, "auth", None) is None or gate is None:
            return True
        now = time.time()
        self.wait_seconds = (int(now // WINDOW_SECONDS) + 1) * WINDOW_SECONDS - now
        return gate.count <= settings.API_RATE_LIMIT_PER_MINUTE

    def wait(self):
        return max(1, int(self.wait_seconds) + 1)


def auth_blocked_wait() -> int:
    """Seconds until a blocked address may authenticate again: the rest of the clock window.

    An address is blocked once it presented API_AUTH_FAILURES_PER_WINDOW wrong keys in it.
    """
    now = time.time()
    window = int(now // settings.API_AUTH_FAILURE_WINDOW_SECONDS)
    return _seconds_left(now, window, settings.API_AUTH_FAILURE_WINDOW_SECONDS)


def record_auth_failure(address: str) -> None:
    """Count a wrong, revoked or expired key presented from ``address``."""
    window = int(time.time() // settings.API_AUTH_FAILURE_WINDOW_SECONDS)
    _count(failures_key(address, window), settings.API_AUTH_FAILURE_WINDOW_SECONDS)
