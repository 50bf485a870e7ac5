"""Helpers for tests that run the project's own commands as real processes."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.celery import ALL_QUEUES

ROOT = Path(__file__).resolve().parent.parent
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh embedded install: no service URLs, its own var folder."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env.pop("PORTAL_MODE", None)
    env.pop("SECRET_KEY", None)
    env["PORTAL_VAR_DIR"] = str(var_dir)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with the test interpreter and capture its output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_database_url() -> str:
    """DATABASE_URL of the test database this pytest process uses (for worker processes)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def service_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a portal process on this test's database and Redis databases (each
    xdist worker has its own: tests/conftest.py puts their URLs in the environment)."""
    from django.conf import settings

    return {
        **os.environ,
        "PORTAL_VAR_DIR": str(var_dir),
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        **overrides,
    }


def start_worker(
    var_dir: Path,
    queues: tuple[str, ...] = ALL_QUEUES,
    stderr_log: Path | None = None,
    **env_overrides: str,
) -> subprocess.Popen:
    """A real Celery worker process on the test database and the real Redis, consuming
    ``queues`` (every queue unless told); its log lines (stderr) go to ``stderr_log`` if given."""
    env = service_env(var_dir, **env_overrides)
    with open(stderr_log, "w") if stderr_log else contextlib.nullcontext() as stderr:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--concurrency=1",
                f"--queues={','.join(queues)}",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stderr=stderr,
            start_new_session=True,
        )


def start_beat(var_dir: Path, log: Path, **env_overrides: str) -> subprocess.Popen:
    """A real Celery beat process on the test database and the real Redis, logging to ``log``."""
    with open(log, "w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO"],
            cwd=ROOT,
            env=service_env(var_dir, **env_overrides),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(process: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process and all its children; wait for it to end."""
    import signal as signals

    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signals.SIGKILL)
        process.wait(timeout=30)


def wait_until(predicate, timeout: float, what: str, every: float = 0.2, action=None):
    """Poll `predicate` (running `action` between polls); fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if action:
            action()
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")
