"""Per-key rate limit with an atomic counter in the cache (Redis in production)."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    """At most API_RATE_LIMIT_PER_MINUTE requests per key per clock minute."""

    def allow_request(self, request, view):
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"api-rate:{api_key.pk}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        count = cache.incr(key)
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        return count <= settings.API_RATE_LIMIT_PER_MINUTE

    def wait(self):
        return max(1, int(self.wait_seconds) + 1)
