"""One round trip to the cache for each API request.

It reads the client address's failed authentications and the presented credential's cached
record and, when the record is there, counts the request against the credential's rate limit
(the clock minute's first count is the credential's first use in it). On the portal's Redis
cache this is one Lua script (atomic, one round trip, sent past redis-py's command layer); on any
other cache (locmem in development and tests) the same steps through Django's cache API.

A record is a string the caller builds (``fill`` stores it only when no record and no stale mark
is there). ``mark_stale`` writes a short-lived mark over records whose credential changed: a
request that read the database before the change committed cannot store its outdated record
after it, so a change is seen by the very next request in every process and host.

An app may name cache entries every request reads in the same round trip
(:func:`read_along_always`; :func:`read_value` reads them after): the catalog's version is read
so, for the catalog's answers and for the prices an order is placed at.

When the cache does not answer, the gate lets the request through uncounted and says so in the
log; a change that cannot mark its records stale raises.
"""

import hashlib
import logging
import time
import weakref
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import NoScriptError

from core.cache import CACHE_ERRORS, RedisCache

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
STALE = 0  # the mark written over a changed credential's record
STALE_SECONDS = 60  # longer than any request takes between its database read and its fill
GATE_ATTRIBUTE = "api_gate"

PASS_SCRIPT = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if failures >= tonumber(ARGV[1]) then return {1} end
local answer = {0, '', 0}
for i = 4, #KEYS do answer[i] = redis.call('GET', KEYS[i]) or '' end
local record = redis.call('GET', KEYS[2])
if not record or record == ARGV[3] then return answer end
local count = redis.call('INCR', KEYS[3])
if count == 1 then redis.call('EXPIRE', KEYS[3], ARGV[2]) end
answer[2], answer[3] = record, count
return answer
"""
PASS_SCRIPT_SHA = hashlib.sha1(PASS_SCRIPT.encode()).hexdigest()


@dataclass(frozen=True)
class Names:
    """The cache keys one request reads and counts under."""

    failures: str
    record: str
    rate: str  # the credential's count of requests this clock minute
    read_along: tuple[str, ...] = ()  # other entries read in the same round trip


@dataclass(frozen=True)
class Gate:
    """What the cache said about one request."""

    blocked: bool = False  # the address presented too many wrong credentials this window
    record: str | None = None  # the credential's cached record (None: not cached, or stale)
    count: int = 0  # this request's number in the credential's minute; 0: not counted
    first_use: bool = False  # the first counted request of the credential this minute
    read: tuple[tuple[str, object], ...] = ()  # the read-along entries found, with their values


def failures_key(address: str, window: int) -> str:
    return f"api-auth-failures:{window}:{address}"


def names(
    address: str,
    record_key: str,
    credential: str,
    read_along: tuple[str, ...] = (),
) -> Names:
    """The keys for a request from ``address`` presenting ``credential`` (its public part), and
    the entries to read along."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    failure_window = int(now // settings.API_AUTH_FAILURE_WINDOW_SECONDS)
    return Names(
        failures=failures_key(address, failure_window),
        record=record_key,
        rate=f"api-rate:{credential}:{window}",
        read_along=read_along,
    )


def pass_gate(names: Names) -> Gate:
    """Read, count and mark in one round trip; an empty gate when the cache does not answer."""
    try:
        return _backend().pass_gate(names)
    except CACHE_ERRORS as error:
        logger.warning(
            "Failed authentications not read and rate limit not counted, "
            "the cache does not answer: %r",
            error,
        )
        return Gate()


def fill(names: Names, record: str, timeout: int, passed: Gate | None = None) -> Gate:
    """Store ``record`` unless one (or a stale mark) is there, and count the request; with the
    gate ``passed`` (no record found), its read-along values."""
    read = passed.read if passed else ()
    try:
        filled = _backend().fill(names, record, timeout)
    except CACHE_ERRORS as error:
        logger.warning("Rate limit not counted, the cache does not answer: %r", error)
        return Gate(record=record, read=read)
    return replace(filled, read=read)


def mark_stale(record_keys: list[str]) -> None:
    """Make the next request of each record's credential read the database again.

    Raises the cache's error when it does not answer: a change that cannot reach the cache
    must not be taken as done.
    """
    if record_keys:
        _backend().mark_stale(record_keys)


def remember(request, gate: Gate) -> None:
    """Keep the request's gate for the throttle (on the Django request under DRF's)."""
    setattr(getattr(request, "_request", request), GATE_ATTRIBUTE, gate)


def gate_of(request) -> Gate | None:
    return getattr(getattr(request, "_request", request), GATE_ATTRIBUTE, None)


_READ_BY_EVERY_REQUEST: list[str] = []


def read_along_always(*entries: str) -> None:
    """Have every request's gate read these cache entries too (from an app's ``ready``)."""
    _READ_BY_EVERY_REQUEST.extend(e for e in entries if e not in _READ_BY_EVERY_REQUEST)


def read_along_of() -> tuple[str, ...]:
    """The cache entries every request's gate reads along."""
    return tuple(_READ_BY_EVERY_REQUEST)


def read_value(request, entry: str):
    """A read-along entry's value; None when not in the cache or not read (no key presented,
    the cache did not answer)."""
    passed = gate_of(request)
    return None if passed is None else dict(passed.read).get(entry)


def _backend():
    cache = caches["default"]
    backend = _backends.get(cache)
    if backend is None:
        backend = _backends[cache] = (
            _RedisBackend(cache) if isinstance(cache, RedisCache) else _CacheBackend(cache)
        )
    return backend


_backends = weakref.WeakKeyDictionary()  # one per cache object (Django keeps one per thread)


class _RedisBackend:
    """One Lua script; keys named as Django names them, counters stored as Django stores ints."""

    def __init__(self, cache: RedisCache):
        self.cache = cache
        self.client = cache._cache.get_client(write=True)

    def key(self, name: str) -> str:
        """Django's full name, without its memcached-compatibility check: the gate's names are
        built from an address, a safe label and digests."""
        return self.cache.make_key(name)

    def pass_gate(self, names: Names) -> Gate:
        keys = [self.key(names.failures), self.key(names.record), self.key(names.rate)]
        keys += [self.key(name) for name in names.read_along]
        args = (settings.API_AUTH_FAILURES_PER_WINDOW, 2 * WINDOW_SECONDS, STALE)
        try:
            answer = self.client.call("EVALSHA", PASS_SCRIPT_SHA, len(keys), *keys, *args)
        except NoScriptError:  # the server's script cache was emptied: EVAL loads it again
            answer = self.client.call("EVAL", PASS_SCRIPT, len(keys), *keys, *args)
        if answer[0] == 1:
            return Gate(blocked=True)
        loads = self.cache._cache._serializer.loads
        read = tuple(
            (name, loads(value))
            for name, value in zip(names.read_along, answer[3:], strict=True)
            if value
        )
        count = int(answer[2])
        return Gate(record=answer[1].decode() or None, count=count, first_use=count == 1, read=read)

    def fill(self, names: Names, record: str, timeout: int) -> Gate:
        rate = self.key(names.rate)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.key(names.record), record, nx=True, ex=timeout)
        pipe.incr(rate)
        pipe.expire(rate, 2 * WINDOW_SECONDS)
        _stored, count, _expiry = pipe.execute()
        return Gate(record=record, count=int(count), first_use=count == 1)

    def mark_stale(self, record_keys: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for name in record_keys:
            pipe.set(self.key(name), STALE, ex=STALE_SECONDS)
        pipe.execute()


class _CacheBackend:
    """Any Django cache: the same steps, one call each."""

    def __init__(self, cache):
        self.cache = cache

    def pass_gate(self, names: Names) -> Gate:
        found = self.cache.get_many([names.failures, names.record, *names.read_along])
        if found.get(names.failures, 0) >= settings.API_AUTH_FAILURES_PER_WINDOW:
            return Gate(blocked=True)
        read = tuple((name, found[name]) for name in names.read_along if name in found)
        record = found.get(names.record)
        if record is None or record == STALE:
            return Gate(read=read)
        return replace(self.count(names), record=record, read=read)

    def fill(self, names: Names, record: str, timeout: int) -> Gate:
        self.cache.add(names.record, record, timeout=timeout)
        return replace(self.count(names), record=record)

    def count(self, names: Names) -> Gate:
        self.cache.add(names.rate, 0, timeout=2 * WINDOW_SECONDS)
        count = self.cache.incr(names.rate)
        return Gate(count=count, first_use=count == 1)

    def mark_stale(self, record_keys: list[str]) -> None:
        self.cache.set_many(dict.fromkeys(record_keys, STALE), timeout=STALE_SECONDS)
