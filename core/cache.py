"""The shared cache (Redis in production): what it raises when it does not answer, and its
backend."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

CACHE_ERRORS = (RedisError, OSError)


class _ClientPerPool(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool rather than one per call:
    building one (its table of reply parsers) costs more than a round trip to a nearby Redis.
    ``redis.Redis`` is safe to share between threads; its pool reconnects after a fork."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache; its clients reused (:class:`_ClientPerPool`)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool
