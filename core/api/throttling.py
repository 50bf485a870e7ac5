"""Rate limits with atomic counters in the cache (Redis in production).

Two limits: requests per API key and clock minute, and failed authentications per client
address and clock window (guessing keys). Both answer 429 ``throttled`` with ``Retry-After``.

When the cache does not answer (Redis down or cut off), the limits let requests through and say
so in the log: a partner's order is worth more than a rate limit missed for a few seconds.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60
logger = logging.getLogger(__name__)


def _count(key: str, window_seconds: int) -> int:
    """The window's count after adding one; 0 when the cache does not answer."""
    try:
        cache.add(key, 0, timeout=window_seconds * 2)
        return cache.incr(key)
    except (RedisError, OSError) as error:
        logger.warning("Rate limit not counted, the cache does not answer: %r", error)
        return 0


def _seconds_left(now: float, window: int, window_seconds: int) -> int:
    return max(1, int((window + 1) * window_seconds - now) + 1)


class ApiKeyRateThrottle(BaseThrottle):
    """At most API_RATE_LIMIT_PER_MINUTE requests per key per clock minute."""

    def allow_request(self, request, view):
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        count = _count(f"api-rate:{api_key.pk}:{window}", WINDOW_SECONDS)
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        return count <= settings.API_RATE_LIMIT_PER_MINUTE

    def wait(self):
        return max(1, int(self.wait_seconds) + 1)


def _auth_failure_window() -> tuple[float, int, str]:
    now = time.time()
    window = int(now // settings.API_AUTH_FAILURE_WINDOW_SECONDS)
    return now, window, f"api-auth-failures:{window}:"


def auth_blocked_for(address: str) -> int | None:
    """Seconds until ``address`` may authenticate again, or None when it is not blocked.

    An address is blocked for the rest of the clock window once it presented
    API_AUTH_FAILURES_PER_WINDOW wrong keys in it.
    """
    now, window, prefix = _auth_failure_window()
    try:
        failures = cache.get(prefix + address, 0)
    except (RedisError, OSError) as error:
        logger.warning("Failed authentications not read, the cache does not answer: %r", error)
        return None
    if failures < settings.API_AUTH_FAILURES_PER_WINDOW:
        return None
    return _seconds_left(now, window, settings.API_AUTH_FAILURE_WINDOW_SECONDS)


def record_auth_failure(address: str) -> None:
    """Count a wrong, revoked or expired key presented from ``address``."""
    _now, _window, prefix = _auth_failure_window()
    _count(prefix + address, settings.API_AUTH_FAILURE_WINDOW_SECONDS)
