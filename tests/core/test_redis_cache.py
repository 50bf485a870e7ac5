"""The Redis cache backend reuses its clients (one per connection pool); its raw call for
the hot paths answers on each thread's own connection, reconnects and trips the breaker like
its commands."""

import os
import threading
import time

import pytest
import redis
from django.core.cache import caches
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from core.cache import CacheUnavailable, RedisCache


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


def _client():
    return caches["default"]._cache.get_client(write=True)


@pytest.mark.services
def test_a_raw_call_answers_as_the_server_sends():
    client = _client()
    client.call("SET", "raw-call", "1", "EX", 10)
    assert client.call("INCR", "raw-call") == 2
    assert client.call("GET", "raw-call") == b"2"  # no reply callback: bytes as sent
    with pytest.raises(ResponseError):
        client.call("INCR", "no-such-command-takes-this", "extra")


@pytest.mark.services
def test_a_raw_call_opens_a_connection_the_server_closed():
    client = _client()
    number = client.call("CLIENT", "ID")
    other = redis.Redis(connection_pool=redis.ConnectionPool.from_url(os.environ["REDIS_URL"]))
    assert other.client_kill_filter(_id=number) == 1  # as a server restart would
    other.close()
    assert client.call("PING") == b"PONG"
    assert client.call("CLIENT", "ID") != number
    assert client.breaker.allows()


@pytest.mark.services
def test_raw_calls_keep_one_connection_per_thread_outside_the_pool():
    client = _client()
    mine = client.call("CLIENT", "ID")
    assert client.call("CLIENT", "ID") == mine
    other_thread = []
    thread = threading.Thread(target=lambda: other_thread.append(client.call("CLIENT", "ID")))
    thread.start()
    thread.join()
    assert other_thread and other_thread[0] != mine
    pooled = client.connection_pool.get_connection()
    pooled.send_command("CLIENT", "ID")
    assert pooled.read_response() != mine
    client.connection_pool.release(pooled)


@pytest.mark.services
def test_a_raw_call_never_reads_a_reply_left_by_an_interrupted_one():
    client = _client()
    client.call("SET", "left-behind", "old", "EX", 10)
    connection = client._lane()
    connection.send_packed_command(connection.pack_command("GET", "left-behind"))
    time.sleep(0.05)  # the reply arrives; the caller was interrupted before reading it
    assert client.call("ECHO", "mine") == b"mine"


@pytest.mark.services
def test_a_forked_process_opens_its_own_connection():
    client = _client()
    parent = client.call("CLIENT", "ID")
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(writing, str(client.call("CLIENT", "ID")).encode())
        finally:
            os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    answer = os.read(reading, 100)
    os.close(reading)
    assert answer and int(answer) != parent
    assert client.call("CLIENT", "ID") == parent  # the parent's connection still in step


def test_a_raw_call_to_a_server_that_does_not_answer_opens_the_breaker():
    client = RedisCache("redis://127.0.0.1:1/0", {})._cache.get_client(write=True)
    with pytest.raises(RedisConnectionError):
        client.call("PING")
    assert not client.breaker.allows()
    with pytest.raises(CacheUnavailable):  # not tried again until the breaker's pause ends
        client.call("PING")
