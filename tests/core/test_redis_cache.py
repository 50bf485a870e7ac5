"""The Redis cache backend reuses its clients (one per connection pool)."""

import pytest
from django.core.cache import caches

from core.cache import RedisCache


@pytest.mark.services
def test_the_redis_cache_reuses_its_client():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    cache.set("reused", 1, 10)
    assert cache.get("reused") == 1 and cache.delete("reused")


def test_a_redis_cache_builds_its_client_once():
    backend = RedisCache("redis://127.0.0.1:1/0", {})
    assert backend._cache.get_client() is backend._cache.get_client()
