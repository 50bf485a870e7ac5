"""Sessions read through the shared cache (core.sessions): a signed-in page reads no session row,
and signing out ends the session in the cache as well as in the database."""

import socket

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached_sessions(settings):
    settings.SESSION_ENGINE = "core.sessions"


@pytest.fixture
def signed_in(client, cached_sessions):
    client.force_login(CustomerFactory())
    return client


def test_a_signed_in_page_reads_the_session_from_the_cache(signed_in):
    with CaptureQueriesContext(connection) as queries:
        assert signed_in.get(reverse("sims:list")).status_code == 200
    assert not [query for query in queries if "django_session" in query["sql"]]


def test_signing_out_ends_the_cached_session(signed_in):
    cookie = signed_in.cookies["sessionid"].value
    signed_in.get(reverse("sims:list"))
    assert signed_in.post(reverse("account_logout")).status_code == 302
    assert not Session.objects.filter(session_key=cookie).exists()
    other = Client()
    other.cookies["sessionid"] = cookie
    response = other.get(reverse("sims:list"))
    assert response.status_code == 302 and reverse("account_login") in response.url


@pytest.fixture
def cache_gone(settings):
    """Point the cache at a port nothing listens on."""

    def gone():
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        location = f"redis://127.0.0.1:{port}/0"
        settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": location}}

    return gone


def test_without_the_cache_pages_read_the_session_from_the_database(signed_in, cache_gone):
    cache_gone()
    assert signed_in.get(reverse("sims:list")).status_code == 200


def test_without_the_cache_signing_out_fails_and_keeps_the_session(signed_in, cache_gone):
    cookie = signed_in.cookies["sessionid"].value
    signed_in.get(reverse("sims:list"))
    cache_gone()
    with pytest.raises(RedisConnectionError):
        signed_in.post(reverse("account_logout"))
    assert Session.objects.filter(session_key=cookie).exists()
