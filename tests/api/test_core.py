"""The API's common behaviour: keys, the error body, rate limits, idempotency, the schema."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services import issue_api_key, revoke_api_key
from portal.api.idempotency import purge_expired_records
from portal.celery import app as celery_app
from portal.models import IdempotencyRecord

pytestmark = pytest.mark.django_db
PING = "/api/v1/wallet/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def key(world_partner):
    return issue_api_key(partner=world_partner, name="test")


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


@pytest.mark.parametrize("token", [None, "nope", "demopartner.wrong", "a.b.c", "Basic x"])
def test_missing_or_wrong_keys_get_401(world_partner, token):
    response = client_with(token).get(PING)
    assert_error(response, 401, "not_authenticated" if not token else "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_and_expired_keys_are_refused_at_once(key):
    client = client_with(key.plaintext)
    assert client.get(PING).status_code == 200
    revoke_api_key(api_key=key.api_key)
    assert_error(client.get(PING), 401, "authentication_failed")
    other = issue_api_key(
        partner=key.api_key.partner,
        name="short",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert_error(client_with(other.plaintext).get(PING), 401, "authentication_failed")


def test_ip_allowlist(world_partner):
    issued = issue_api_key(partner=world_partner, name="office", allowed_ips=["10.1.2.3"])
    assert_error(client_with(issued.plaintext).get(PING), 403, "permission_denied")
    client = client_with(issued.plaintext)
    assert client.get(PING, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(key, django_assert_max_num_queries):
    client = client_with(key.plaintext)
    client.get(PING)
    first = ApiKey.objects.get(pk=key.api_key.pk).last_used_at
    client.get(PING)
    assert ApiKey.objects.get(pk=key.api_key.pk).last_used_at == first
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client.get(PING)
    assert ApiKey.objects.get(pk=key.api_key.pk).last_used_at > first


def test_unknown_paths_methods_and_media_types_use_the_error_body(key):
    client = client_with(key.plaintext)
    assert_error(client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(client.delete(PING), 405, "method_not_allowed")
    response = client.post("/api/v1/orders/", "plan=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    response = client.post("/api/v1/orders/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_rate_limit_answers_429_with_retry_after(key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = client_with(key.plaintext)
    assert [client.get(PING).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(PING)
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61


def test_rate_limits_let_requests_through_when_the_cache_does_not_answer(key, settings, caplog):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    settings.CACHES = {  # a Redis that refuses every connection
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    good, wrong = client_with(key.plaintext), client_with(key.plaintext + "tampered")
    assert [good.get(PING).status_code for _ in range(3)] == [200, 200, 200]
    assert wrong.get(PING).status_code == 401
    assert "Rate limit not counted, the cache does not answer" in caplog.text
    assert "Failed authentications not read" in caplog.text


def post_order(client, key_value, body):
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key_value)


def test_idempotency_replay_mismatch_and_in_progress(
    key, world_partner, django_capture_on_commit_callbacks
):
    from plans.models import Plan

    client = client_with(key.plaintext)
    plan = Plan.objects.filter(kind="esim").first()
    first = post_order(client, "order-1", {"plan": plan.pk})
    assert first.status_code == 201
    again = post_order(client, "order-1", {"plan": plan.pk})
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert world_partner.orders.count() == 1
    assert_error(
        post_order(client, "order-1", {"plan": plan.pk, "quantity": 2}), 409, "idempotency_mismatch"
    )
    IdempotencyRecord.objects.create(partner=world_partner, key="busy", fingerprint="x")
    busy = post_order(client, "busy", {"plan": plan.pk})
    assert busy.status_code == 409  # fingerprint differs: mismatch wins over in-progress
    from core.api.idempotency import fingerprint  # noqa: F401 (documented helper)

    record = IdempotencyRecord.objects.get(key="order-1")
    IdempotencyRecord.objects.filter(pk=record.pk).update(completed=False)
    in_progress = post_order(client, "order-1", {"plan": plan.pk})
    assert_error(in_progress, 409, "idempotency_in_progress")
    assert in_progress["Retry-After"] == "2"


def test_keys_are_per_partner_and_expire_after_48_hours(key, world_partner):
    IdempotencyRecord.objects.create(partner=world_partner, key="old", fingerprint="x")
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert purge_expired_records() == 1
    assert "purge-idempotency-records" in celery_app.conf.beat_schedule


def test_issue_api_key_command_prints_the_key_once(world_partner, capsys):
    call_command("issue_api_key", world_partner.slug, "--name", "shop till")
    plaintext = capsys.readouterr().out.strip().splitlines()[-1]
    assert client_with(plaintext).get(PING).status_code == 200
    stored = ApiKey.objects.get(name="shop till")
    assert plaintext.split(".")[1] not in json.dumps(
        {k: str(v) for k, v in stored.__dict__.items()}
    )


def test_admin_issues_and_revokes_keys(client, world_partner, signed_in_administrator):
    response = client.post(
        "/admin/accounts/partner/",
        {"action": "issue_key", "_selected_action": [world_partner.pk]},
        follow=True,
    )
    message = next(str(m) for m in response.context["messages"] if "API key" in str(m))
    plaintext = message.rsplit(" ", 1)[1]
    assert client_with(plaintext).get(PING).status_code == 200
    api_key = ApiKey.objects.get(prefix=plaintext.split(".")[0])
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert client_with(plaintext).get(PING).status_code == 401


def test_schema_and_docs_are_served_without_a_key(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_keys_never_reach_the_logs(key, caplog):
    caplog.set_level("DEBUG")
    client_with(key.plaintext).get(PING)
    client_with(key.plaintext + "tampered").get(PING)
    secret = key.plaintext.split(".")[1]
    assert secret not in caplog.text
