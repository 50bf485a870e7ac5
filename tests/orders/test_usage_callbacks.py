"""Provider usage callbacks: signed, recorded once, applied like a sync, never back in time."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from core import signing
from orders.models import Sim, WebhookEvent
from orders.services.usage import (
    SANDBOX_SIGNATURE_HEADER,
    build_sandbox_callback,
    callback_secret,
)
from plans.providers.base import Usage
from tests.orders.test_usage_sync import START, TOTAL_MB, clock, issue_sims, plan

__all__ = ["clock", "plan"]  # fixtures shared with the sync tests


@pytest.fixture
def sim(clock, plan):
    [sim] = issue_sims(plan, 1)
    clock.shift(timedelta(hours=2))
    return sim


def post(client, sim, body: bytes, headers: dict, provider_id: int | None = None):
    url = reverse("provider_callback", args=[provider_id or sim.provider_id])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def reading(remaining: int, as_of, status: str = "active") -> Usage:
    return Usage(TOTAL_MB, remaining, START + timedelta(days=7), status, as_of)


def test_valid_callback_updates_the_sim_once(client, sim):
    body, headers = build_sandbox_callback(sim, event_id="evt-1")

    response = post(client, sim, body, headers)

    assert response.status_code == 200
    assert response.json() == {"status": "applied"}
    sim.refresh_from_db()
    assert sim.status == Sim.Status.ACTIVE
    assert sim.data_remaining_mb == TOTAL_MB - 100
    assert sim.usage_synced_at == START + timedelta(hours=2)
    event = WebhookEvent.objects.get()
    assert (event.source, event.event_id) == ("provider", f"{sim.provider_id}:evt-1")
    assert event.processed_at is not None and event.outcome == WebhookEvent.Outcome.APPLIED

    later = reading(5000, START + timedelta(hours=3))
    body, headers = build_sandbox_callback(sim, event_id="evt-1", usage=later)
    response = post(client, sim, body, headers)
    assert response.json() == {"status": "duplicate"}
    sim.refresh_from_db()
    assert sim.data_remaining_mb == TOTAL_MB - 100
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("problem", ["wrong_secret", "missing_header", "tampered", "stale"])
def test_bad_signature_is_refused_and_changes_nothing(client, sim, problem):
    body, headers = build_sandbox_callback(sim, event_id="evt-bad")
    if problem == "wrong_secret":
        _, headers = build_sandbox_callback(sim, event_id="evt-bad", secret="not-the-secret")
    elif problem == "missing_header":
        headers = {}
    elif problem == "tampered":
        body = body.replace(b'"data_remaining_mb": 10140', b'"data_remaining_mb": 10239')
        assert b"10239" in body
    else:
        an_hour_ago = int((START + timedelta(hours=1)).timestamp())  # outside the tolerance
        headers = {SANDBOX_SIGNATURE_HEADER: signing.sign(body, _secret(sim), an_hour_ago)}

    response = post(client, sim, body, headers)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_signature"
    sim.refresh_from_db()
    assert (sim.usage_synced_at, sim.data_remaining_mb, sim.status) == (
        None,
        TOTAL_MB,
        Sim.Status.ISSUED,
    )
    assert not WebhookEvent.objects.exists()


def test_malformed_body_is_refused(client, sim):
    body = json.dumps({"event_id": "evt-x", "type": "usage.updated", "iccid": sim.iccid}).encode()
    headers = {SANDBOX_SIGNATURE_HEADER: signing.sign(body, _secret(sim))}
    response = post(client, sim, body, headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_callback"
    assert not WebhookEvent.objects.exists()


def test_older_callback_arriving_late_is_ignored(client, sim):
    newer = reading(8000, START + timedelta(hours=2))
    older = reading(9000, START + timedelta(hours=1))
    assert post(client, sim, *build_sandbox_callback(sim, event_id="n", usage=newer)).json() == {
        "status": "applied"
    }

    response = post(client, sim, *build_sandbox_callback(sim, event_id="o", usage=older))

    assert response.json() == {"status": "ignored"}
    sim.refresh_from_db()
    assert (sim.data_remaining_mb, sim.usage_synced_at) == (8000, START + timedelta(hours=2))
    ignored = WebhookEvent.objects.get(event_id__endswith=":o")
    assert (ignored.outcome, ignored.error) == (WebhookEvent.Outcome.IGNORED, "ignored")


def test_callback_marks_expiry(client, sim):
    expired = Usage(TOTAL_MB, 0, START + timedelta(hours=1), "expired", START + timedelta(hours=2))
    post(client, sim, *build_sandbox_callback(sim, event_id="exp", usage=expired))
    sim.refresh_from_db()
    assert (sim.status, sim.expires_at) == (Sim.Status.EXPIRED, START + timedelta(hours=1))


def test_configured_callback_secret_is_used(client, sim):
    sim.provider.settings = {"callback_secret": "whsec_provider"}
    sim.provider.save()
    derived = build_sandbox_callback(sim, event_id="a", secret=_secret(sim, derived=True))
    assert post(client, sim, *derived).status_code == 400
    assert post(client, sim, *build_sandbox_callback(sim, event_id="b")).status_code == 200


def test_unknown_provider_and_unknown_sim(client, sim):
    body, headers = build_sandbox_callback(sim, event_id="evt-404")
    assert post(client, sim, body, headers, provider_id=sim.provider_id + 999).status_code == 404
    assert client.get(reverse("provider_callback", args=[sim.provider_id])).status_code == 405

    Sim.objects.filter(pk=sim.pk).update(status=Sim.Status.REPLACED)
    assert post(client, sim, body, headers).json() == {"status": "ignored"}
    sim.refresh_from_db()
    assert sim.usage_synced_at is None


def _secret(sim, derived: bool = False) -> str:
    provider = sim.provider
    if derived:
        provider = type(provider)(pk=provider.pk, settings={})
    return callback_secret(provider)
