"""The broker's transport (portal/broker.py): kombu's Redis transport with one Redis client per
connection pool, not one per message published or acknowledged."""

import uuid
from unittest import mock

import pytest
import redis
from kombu import Connection, Exchange, Queue

from portal.broker import Transport
from portal.celery import app

pytestmark = pytest.mark.services
MESSAGES = 20


def test_the_portal_s_broker_connections_use_the_transport(real_broker):
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)


@pytest.fixture
def clients_built():
    """The ``redis.Redis`` clients built, one entry each."""
    built = []
    init = redis.Redis.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        init(self, *args, **kwargs)

    with mock.patch.object(redis.Redis, "__init__", counting):
        yield built


def send_and_take(connection, queue: Queue, count: int) -> list:
    """Publish ``count`` messages, then take and acknowledge them all."""
    with connection.Producer() as producer:
        for number in range(count):
            producer.publish(
                {"n": number},
                exchange=queue.exchange,
                routing_key=queue.routing_key,
                declare=[queue],
            )
    taken = []
    with connection.SimpleQueue(queue) as simple:
        for _ in range(count):
            message = simple.get(timeout=5)
            taken.append(message.payload["n"])
            message.ack()
    return taken


@pytest.fixture
def queue():
    name = f"broker-test-{uuid.uuid4().hex[:8]}"
    return Queue(name, Exchange(name), routing_key=name)


def test_messages_published_and_acknowledged_share_one_client(real_broker, queue, clients_built):
    with Connection(real_broker.conf.broker_url, transport=Transport) as connection:
        assert send_and_take(connection, queue, MESSAGES) == list(range(MESSAGES))
        channel = connection.default_channel
        with channel.conn_or_acquire() as client:
            assert client.llen(queue.name) == 0
            assert client.zcard(channel.unacked_index_key) == 0
    assert len(clients_built) <= 3  # the kept one, and the consumer's own (BRPOP, pub/sub)


def test_a_new_pool_gets_a_new_client(real_broker, queue):
    with Connection(real_broker.conf.broker_url, transport=Transport) as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as before:
            pass
        channel._disconnect_pools()  # as after a fork, or a connection lost
        with channel.conn_or_acquire() as after:
            assert after is not before and after.connection_pool is channel.pool
        assert send_and_take(connection, queue, 3) == [0, 1, 2]
