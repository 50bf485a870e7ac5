"""A reused database connection is checked before a request uses it, without a round trip to
PostgreSQL when nothing from the server is waiting on it (core/postgresql): one the server ended
is replaced, one with a message waiting is checked with Django's query."""

import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import RequestFactory

from core.postgresql.base import DatabaseWrapper, quiet_and_idle

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
WALLET = "/api/v1/wallet/"


class Client:
    """Requests through Django's WSGI handler, as gunicorn sends them: each one starts and ends
    with Django's look at the connection (the test client skips it)."""

    def __init__(self, plaintext: str):
        self.headers = {"Authorization": f"Bearer {plaintext}"}
        self.handler = WSGIHandler()

    def get(self, path: str) -> int:
        environ = RequestFactory().get(path, headers=self.headers).environ
        statuses = []
        body = self.handler(environ, lambda status, *args: statuses.append(status))
        body.close()
        return int(statuses[0].split()[0])


@pytest.fixture
def client(api_key, monkeypatch):
    """A partner's client; the connection kept between requests, as in production."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    yield Client(api_key.plaintext)
    connection.close()


@pytest.fixture
def checks(monkeypatch) -> list:
    """Every ``SELECT 1`` check Django makes of the connection from now on."""
    made = []
    original = DatabaseWrapper.is_usable

    def counting(self):
        made.append(self.connection.info.backend_pid)
        return original(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counting)
    return made


def backend() -> int:
    return connection.connection.info.backend_pid


def with_other_connection(sql: str) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(sql)
    finally:
        other.close()


def wait_until_waiting(timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while quiet_and_idle(connection.connection):
        assert time.monotonic() < deadline, "nothing arrived from the server"
        time.sleep(0.01)


def test_a_reused_connection_is_kept_without_a_query(client, checks):
    assert client.get(WALLET) == 200
    first = backend()
    assert client.get(WALLET) == 200
    assert client.get(WALLET) == 200
    assert backend() == first and checks == []


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(client, checks):
    assert client.get(WALLET) == 200
    ended = backend()
    with_other_connection(f"SELECT pg_terminate_backend({ended})")
    wait_until_waiting()
    assert client.get(WALLET) == 200
    assert backend() != ended and checks == [ended]


def test_a_connection_with_a_message_waiting_is_checked_with_a_query(client, checks):
    assert client.get(WALLET) == 200
    kept = backend()
    connection.connection.execute("LISTEN portal_test")
    with_other_connection("NOTIFY portal_test")
    wait_until_waiting()
    assert client.get(WALLET) == 200
    assert backend() == kept and checks == [kept]
