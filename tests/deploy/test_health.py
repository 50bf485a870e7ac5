"""The probes over HTTP: /health/live, /health/ready, and the old /health/."""

import socket

import pytest
from django.core.cache import caches
from django.db.migrations.executor import MigrationExecutor
from django.urls import resolve

from portal import health
from tests.stalled import StalledServer

pytestmark = pytest.mark.django_db

CLUSTER_PROBE = {"HTTP_HOST": "10.1.2.3:8000"}  # a pod address, not in ALLOWED_HOSTS, plain HTTP


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_front(settings):
    """The host check and the HTTPS redirect of production."""
    settings.ALLOWED_HOSTS = ["portal.example"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.fixture
def broker_up(monkeypatch):
    """The broker answers (the real Redis is tested in test_ready_with_every_service_up)."""
    monkeypatch.setitem(health.READY_CHECKS, "broker", lambda: None)


def test_probe_paths_resolve_to_the_probes():
    assert resolve("/health/live").func is health.live
    assert resolve("/health/ready").func is health.ready


def test_live_answers_from_inside_the_cluster_without_host_check_or_https(
    client, production_front, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/health/live", **CLUSTER_PROBE)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_other_paths_still_get_the_host_check_and_the_redirect(client, production_front):
    assert client.get("/plans/", **CLUSTER_PROBE).status_code == 400
    response = client.get("/plans/", HTTP_HOST="portal.example")
    assert response.status_code == 301
    assert response["Location"] == "https://portal.example/plans/"


def test_ready_when_migrated_with_storage_and_broker(client, production_front, broker_up):
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": sorted(health.READY_CHECKS)}
    assert "no-cache" in response["Cache-Control"]


def test_not_ready_with_an_unapplied_migration(client, production_front, broker_up, monkeypatch):
    real_plan = MigrationExecutor.migration_plan

    def one_missing(self, targets, clean_start=False):
        plan = real_plan(self, targets, clean_start)
        return plan or [(self.loader.graph.nodes[targets[0]], False)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", one_missing)
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "failed": {"migrations": "unapplied migrations: 1"},
    }


def test_not_ready_when_the_broker_does_not_answer(client, production_front, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 503
    assert list(response.json()["failed"]) == ["broker"]


def test_not_ready_without_the_static_files_manifest(
    client, production_front, broker_up, settings, tmp_path
):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 503
    assert response.json()["failed"] == {
        "static": "static files manifest missing: run collectstatic"
    }


def test_not_ready_when_the_storage_refuses_writes(
    client, production_front, broker_up, settings, tmp_path
):
    not_a_directory = tmp_path / "media"
    not_a_directory.write_text("")  # (tests may run as root: a file, not a read-only directory)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": not_a_directory},
        },
    }
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 503
    assert list(response.json()["failed"]) == ["storage"]


def test_the_storage_probe_leaves_no_file(client, broker_up, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    assert client.get("/health/ready").status_code == 200
    assert list(tmp_path.iterdir()) == []


@pytest.mark.services
def test_ready_asks_the_cache_past_an_open_breaker_and_closes_it(client, broker_up):
    """After an outage the probe, not the breaker's cooldown, says when the cache is back."""
    breaker = caches["default"]._cache._breaker
    breaker.failed()
    assert not breaker.allows()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert breaker.allows()


def test_not_ready_when_the_cache_does_not_answer(client, broker_up, settings):
    stalled = StalledServer()
    try:
        stalled.as_cache(settings)
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["failed"] == {"cache": "TimeoutError"}
        assert not caches["default"]._cache._breaker.allows()
    finally:
        stalled.close()


@pytest.mark.services
def test_ready_with_every_service_up(client, production_front):
    """Against the real PostgreSQL and Redis (the broker is pinged for real)."""
    response = client.get("/health/ready", **CLUSTER_PROBE)
    assert response.status_code == 200, response.content


def test_the_old_health_path_still_answers(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
