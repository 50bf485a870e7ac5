"""API keys checked from the cache: no query for a known key, one round trip to Redis, and every
change to a key or its partner seen by the very next request, in any process."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request

from accounts.api import keys
from accounts.api.authentication import ApiKeyAuthentication
from accounts.models import ApiKey
from accounts.services import issue_api_key, revoke_api_key
from core.api import gate
from core.api.throttling import ApiKeyRateThrottle
from tests.api.conftest import client_for
from tests.processes import manage, service_env

pytestmark = pytest.mark.django_db
WALLET = "/api/v1/wallet/"


@pytest.fixture
def key(world_partner):
    return issue_api_key(partner=world_partner, name="cached")


def authenticate_and_throttle(plaintext: str, address: str = "127.0.0.1"):
    """What DRF runs before a view: the authentication, then the rate limit."""
    http = RequestFactory().get(
        WALLET, HTTP_AUTHORIZATION=f"Bearer {plaintext}", REMOTE_ADDR=address
    )
    request = Request(http, authenticators=[ApiKeyAuthentication()])
    user = request.user
    return user, ApiKeyRateThrottle().allow_request(request, view=None)


def test_a_known_key_costs_no_query_for_authentication_and_throttle(key, django_assert_num_queries):
    with django_assert_num_queries(2):  # the key with its partner, the last-use stamp
        authenticate_and_throttle(key.plaintext)
    with django_assert_num_queries(0):
        user, allowed = authenticate_and_throttle(key.plaintext)
    assert allowed and user.partner_id == key.api_key.partner_id


def test_a_known_key_still_gives_views_its_partner(key):
    authenticate_and_throttle(key.plaintext)
    user, _allowed = authenticate_and_throttle(key.plaintext)
    assert user.partner == key.api_key.partner
    assert client_for(key.plaintext).get(WALLET).json()["currency"] == user.partner.currency


def stored(name: str):
    """A value as the cache holds it (on Redis, records are plain JSON, not pickled)."""
    if isinstance(caches["default"], RedisCache):
        raw = cache._cache.get_client().get(cache.make_and_validate_key(name))
        return raw and raw.decode()
    return cache.get(name)


def test_the_cache_holds_neither_the_secret_nor_its_hmac(key):
    authenticate_and_throttle(key.plaintext)
    record_key = keys.record_key(key.api_key.prefix, key.api_key.secret_hash)
    record = stored(record_key)
    secret = key.plaintext.partition(".")[2]
    assert record is not None
    for text in (record, record_key):
        assert secret not in text and key.api_key.secret_hash not in text


def test_the_record_holds_the_partners_pricing_under_a_versioned_name(key, world_partner):
    api_key = key.api_key
    client_for(key.plaintext).get(WALLET)
    record = json.loads(stored(keys.record_key(api_key.prefix, api_key.secret_hash)))
    assert (record["tier"], record["currency"]) == (world_partner.tier, world_partner.currency)
    previous = keys.record_key(api_key.prefix, api_key.secret_hash, version="")
    assert previous != keys.record_key(api_key.prefix, api_key.secret_hash)
    assert stored(previous) is None  # the previous release's processes never read this record
    revoke_api_key(api_key=api_key)
    assert str(stored(previous)) == str(gate.STALE)  # but they see the revocation


def test_a_record_of_other_fields_is_taken_as_not_cached(key, world_partner):
    api_key = key.api_key
    name = keys.record_key(api_key.prefix, api_key.secret_hash)
    record = json.loads(keys.VerifiedKey.of(api_key).record())
    del record["tier"]
    gate.fill(gate.names("127.0.0.1", name, "other"), json.dumps(record), 60)
    user, allowed = authenticate_and_throttle(key.plaintext)
    assert allowed and (user.tier, user.currency) == (world_partner.tier, world_partner.currency)


def test_a_wrong_secret_does_not_find_the_cached_record(key):
    client_for(key.plaintext).get(WALLET)
    prefix = key.api_key.prefix
    assert client_for(f"{prefix}.wrong").get(WALLET).status_code == 401


def test_one_request_checks_its_key_once(key, world_partner, monkeypatch):
    checks = []
    original = gate.pass_gate
    monkeypatch.setattr(gate, "pass_gate", lambda names: checks.append(1) or original(names))
    client = client_for(key.plaintext)
    response = client.post("/api/v1/orders/", {"plan": 0}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 400
    assert checks == [1]


def test_revocation_is_seen_by_the_very_next_request(key):
    client = client_for(key.plaintext)
    assert client.get(WALLET).status_code == 200
    revoke_api_key(api_key=key.api_key)
    assert client.get(WALLET).status_code == 401
    assert client.get(WALLET).status_code == 401  # the revoked record is cached in turn


def test_a_record_read_before_a_change_is_not_stored_after_it(key):
    """A request that read the key before its revocation committed stores nothing afterwards."""
    api_key = key.api_key
    outdated = keys.VerifiedKey.of(ApiKey.objects.select_related("partner").get(pk=api_key.pk))
    revoke_api_key(api_key=api_key)
    names = gate.names("127.0.0.1", keys.record_key(api_key.prefix, api_key.secret_hash), "p")
    gate.fill(names, outdated.record(), keys.RECORD_SECONDS)
    assert client_for(key.plaintext).get(WALLET).status_code == 401


def test_expiry_is_seen_by_a_cached_key(key):
    api_key = key.api_key
    api_key.expires_at = timezone.now() + timedelta(minutes=5)
    api_key.save(update_fields=["expires_at"])  # as the admin saves it
    client = client_for(key.plaintext)
    assert client.get(WALLET).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert client.get(WALLET).status_code == 401


def test_a_deactivated_partner_is_refused_at_once(key):
    client = client_for(key.plaintext)
    assert client.get(WALLET).status_code == 200
    partner = key.api_key.partner
    partner.is_active = False
    partner.save(update_fields=["is_active"])  # as the admin saves it
    assert client.get(WALLET).status_code == 401


def test_changed_allowed_addresses_hold_at_once(key):
    client = client_for(key.plaintext)
    assert client.get(WALLET).status_code == 200
    api_key = key.api_key
    api_key.allowed_ips = ["10.1.2.3"]
    api_key.save(update_fields=["allowed_ips"])  # as the admin saves it
    assert client.get(WALLET).status_code == 403
    assert client.get(WALLET, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_a_deleted_key_is_refused_at_once(key):
    client = client_for(key.plaintext)
    assert client.get(WALLET).status_code == 200
    ApiKey.objects.get(pk=key.api_key.pk).delete()
    assert client.get(WALLET).status_code == 401


# Real Redis (scripts/test tests/api/test_key_cache.py).


@pytest.mark.services
def test_a_known_key_costs_one_round_trip_to_redis(key, redis_round_trips):
    authenticate_and_throttle(key.plaintext)
    sent = redis_round_trips
    sent.clear()
    with CaptureQueriesContext(connection) as queries:
        user, allowed = authenticate_and_throttle(key.plaintext)
    assert allowed and user.partner_id == key.api_key.partner_id
    assert len(sent) == 1 and len(queries) == 0


@pytest.mark.services
def test_the_rate_limit_counts_in_redis(key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    results = [authenticate_and_throttle(key.plaintext)[1] for _ in range(3)]
    assert results == [True, True, False]


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_revocation_in_another_process_is_seen_by_the_next_request(world_partner, tmp_path):
    issued = issue_api_key(partner=world_partner, name="cached")
    client = client_for(issued.plaintext)
    assert client.get(WALLET).status_code == 200
    assert client.get(WALLET).status_code == 200  # from the cache
    revoke = (
        "from accounts.models import ApiKey; from accounts.services import revoke_api_key; "
        f"revoke_api_key(api_key=ApiKey.objects.get(pk={issued.api_key.pk}))"
    )
    done = manage("shell", "-c", revoke, env=service_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert client.get(WALLET).status_code == 401


@pytest.mark.services
def test_a_key_is_checked_after_redis_forgot_the_script(
    key, settings, caplog, django_assert_num_queries
):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    assert authenticate_and_throttle(key.plaintext)[1]
    cache._cache.get_client(write=True).script_flush()  # as after a restart of the server
    with django_assert_num_queries(0):  # the cached record read, as before
        user, allowed = authenticate_and_throttle(key.plaintext)
    assert allowed and user.partner_id == key.api_key.partner_id
    assert "the cache does not answer" not in caplog.text
    assert not authenticate_and_throttle(key.plaintext)[1]  # the count went on
