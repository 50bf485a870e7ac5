"""The shared cache (Redis in production): what it raises when it does not answer, and its
backend."""

import os
import threading
from urllib.parse import urlsplit

import hiredis
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.breaker import CircuitBreaker, breaker_for

CACHE_ERRORS = (RedisError, OSError)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


_pid = os.getpid()  # kept current by the hook below: no system call per command


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class CacheUnavailable(RedisConnectionError):
    """Refused without a try: the cache did not answer a moment ago (``core.breaker``)."""


class _GuardedRedis(redis.Redis):
    """``redis.Redis`` behind this process's breaker for its server: while the server does not
    answer, a command fails at once (:class:`CacheUnavailable`) instead of after a timeout."""

    breaker: CircuitBreaker

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lanes = threading.local()

    def execute_command(self, *args, **options):
        if not self.breaker.allows():
            raise CacheUnavailable(f"{self.breaker.name}: not tried, it did not answer just now")
        try:
            result = super().execute_command(*args, **options)
        except UNREACHABLE:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return result

    def call(self, *args):
        """Send one command and return the server's reply as sent, for a path that runs on
        every request: on the calling thread's own connection (no pool to take it from and
        give it back to), none of ``execute_command``'s reply callbacks, timing or retry
        policy. An error reply raises as in ``execute_command``."""
        if not self.breaker.allows():
            raise CacheUnavailable(f"{self.breaker.name}: not tried, it did not answer just now")
        connection = self._lane()
        try:  # opened again if closed; closed by redis-py when sending or reading fails
            connection.send_packed_command([hiredis.pack_command(args)], check_health=False)
            reply = connection.read_response()
        except UNREACHABLE:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return reply

    def _lane(self):
        """The calling thread's connection for :meth:`call`, outside the pool; a forked process
        opens its own."""
        lanes = self._lanes
        connection = getattr(lanes, "connection", None)
        if connection is None or lanes.pid != _pid:
            pool = self.connection_pool
            lanes.connection, lanes.pid = pool.connection_class(**pool.connection_kwargs), _pid
            return lanes.connection
        if connection._sock is not None:  # as the pool checks one it hands out
            try:
                stale = connection.can_read()  # a reply nobody read, or the server closed it
            except UNREACHABLE:
                stale = True
            if stale:
                connection.disconnect()
        return connection

    def pipeline(self, *args, **kwargs):
        if not self.breaker.allows():
            raise CacheUnavailable(f"{self.breaker.name}: not tried, it did not answer just now")
        return super().pipeline(*args, **kwargs)


class _ClientPerPool(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool rather than one per call:
    building one (its table of reply parsers) costs more than a round trip to a nearby Redis.
    ``redis.Redis`` is safe to share between threads; its pool reconnects after a fork. Each
    server's commands go through the process's breaker for it (:class:`_GuardedRedis`)."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}
        self._breaker = breaker_for("the cache at " + ", ".join(map(_where, servers)))
        self._client = type("GuardedRedis", (_GuardedRedis,), {"breaker": self._breaker})

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def ping(self) -> None:
        """Ask the server itself, past the breaker: an answer closes the breaker at once (the
        cache is back), no answer opens it and raises."""
        try:
            redis.Redis.execute_command(self.get_client(write=True), "PING")
        except UNREACHABLE:
            self._breaker.failed()
            raise
        self._breaker.succeeded()


def _where(url: str) -> str:
    """A server's host and port (``url`` may hold a password)."""
    return urlsplit(url).netloc.rpartition("@")[2] or url.rpartition("@")[2]


class RedisCache(DjangoRedisCache):
    """Django's Redis cache; its clients reused (:class:`_ClientPerPool`)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ClientPerPool

    def ping(self) -> None:
        """The server answers (past this process's breaker, which its answer closes)."""
        self._cache.ping()
