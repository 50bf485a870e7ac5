"""Under gunicorn, /metrics adds up the request timings of every worker process."""

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.portal.metrics.conftest import TOKEN, parse
from tests.processes import ROOT, clean_env, free_port, kill_group, wait_until

pytestmark = pytest.mark.slow

REQUESTS = 30
WORKERS = 3


def get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Connection": "close", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""


def test_every_worker_process_is_counted(tmp_path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "histogram_99999.db").write_bytes(b"left by the last run")
    port = free_port()
    env = clean_env(
        tmp_path,
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        METRICS_TOKEN=TOKEN,
        WEB_WORKERS=str(WORKERS),
        WEB_THREADS="2",
        PORT=str(port),
    )
    server = subprocess.Popen(
        [
            Path(sys.executable).parent / "gunicorn",
            "--config",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "portal.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # The liveness probe is answered before the timing middleware: it is not counted.
        wait_until(lambda: get(f"{base}/health/live")[0] == 200, 60, "gunicorn to answer")
        for _ in range(REQUESTS):
            assert get(f"{base}/health/")[0] == 200

        counted = set()
        for _ in range(WORKERS * 2):
            status, text = get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
            assert status == 200
            samples = parse(text)
            key = (
                "portal_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "health"), ("status", "2xx")),
            )
            counted.add(samples[key])
        assert counted == {REQUESTS}
        assert get(f"{base}/metrics")[0] == 401
        assert not (directory / "histogram_99999.db").exists()
        assert len(list(directory.glob("histogram_*.db"))) >= 1
    finally:
        kill_group(server, signal.SIGTERM)
