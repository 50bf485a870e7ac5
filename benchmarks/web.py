"""The portal over HTTP beside the framework's ceiling, on one machine (not a test).

    scripts/bench [--duration 5] [--rounds 3] [--scale 1] [--orders 1000] [--tasks 2000]
                  [--connections 16] [--json PATH]

(``scripts/bench`` runs ``scripts/with_services.py -- .venv/bin/python benchmarks/web.py``.)
On the harness's PostgreSQL and Redis: migrates, builds the data (benchmarks/http_data.py), starts
the portal and the ceiling app (benchmarks/ceiling/) each under gunicorn with
deploy/gunicorn.conf.py (2 sync workers) in production mode, and loads them with wrk (installed
with apt-get when missing; else Python threads) from ``--connections`` connections for
``--duration`` seconds a URL, in ``--rounds`` interleaved rounds. Then the order pipeline: a
Celery worker ``-c 2`` for each, ``--orders`` partner orders POSTed over the connections until all
are provisioned, beside ``--tasks`` no-op tasks, then the same orders paced at half the peak rate
(the POST latency a partner sees when the portal is not saturated). Prints medians and ratios as
a markdown table.
"""

import argparse
import json
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from cryptography.fernet import Fernet

# The repository first on the import path (this script imports benchmarks.*).
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from benchmarks import load, table  # noqa: E402

ROOT = Path(sys.path[0])
BIN = Path(sys.executable).parent
FORWARDED = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(workdir: Path, port: int) -> dict[str, str]:
    """Production settings as deployed (tests/multihost/cluster.py), on the harness's services;
    no rate limit in the way, worker processes not recycled during the runs."""
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "IDENTITY_DOCUMENT_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOW_TEST_PAYMENTS": "1",
        "ALLOW_LOCAL_MEDIA": "1",
        "PORTAL_VAR_DIR": str(workdir / "var"),
        "EMAIL_URL": "dummymail://",
        "DATABASE_CONN_MAX_AGE": "60",
        "FORWARDED_ALLOW_IPS": "*",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "1",
        "WEB_MAX_REQUESTS": "0",
        "WORKER_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
        "API_RATE_LIMIT_PER_MINUTE": "1000000000",
    }


@contextmanager
def process(name: str, command: list[str], env: dict, workdir: Path):
    """A process of its own session (so its children stop with it), logging to workdir."""
    with open(workdir / f"{name}.log", "ab") as log:
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        yield child
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def gunicorn(name: str, app: str, port: int, env: dict, workdir: Path):
    """The web role's gunicorn (deploy/entrypoint web) as 2 sync workers on ``port``."""
    args = f"--bind 127.0.0.1:{port} --worker-class sync --workers 2"
    command = [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", app]
    return process(name, command, {**env, "GUNICORN_CMD_ARGS": args}, workdir)


def fetch(url: str, headers: dict) -> tuple[int, dict]:
    """Status and headers of one GET (redirects not followed)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if fetch(url, FORWARDED)[0] < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} does not answer after {timeout} s")


def targets(portal: str, ceiling: str, data: dict) -> dict[str, tuple[str, dict, int]]:
    """name: (URL, headers, the status it must answer)."""
    api = {**FORWARDED, "Authorization": f"Bearer {data['api_key']}"}
    site = {**FORWARDED, "Cookie": data["cookie"]}
    catalog = f"{portal}/api/v1/plans/?page_size=20"
    etag = fetch(catalog, api)[1]["ETag"]
    return {
        "catalog": (catalog, api, 200),
        "catalog_304": (catalog, {**api, "If-None-Match": etag}, 304),
        "orders": (f"{portal}/api/v1/orders/?page_size=20", api, 200),
        "sims": (f"{portal}/api/v1/sims/?page_size=20", api, 200),
        "site_plans": (f"{portal}/plans/", site, 200),
        "my_sims": (f"{portal}/sims/", site, 200),
        "bare": (f"{ceiling}/bare/", {}, 200),
        "list": (f"{ceiling}/items/", {}, 200),
    }


READ_ROWS = (
    ("`GET /api/v1/plans/?page_size=20`", "catalog", "bare"),
    ("`GET /api/v1/plans/?page_size=20`", "catalog", "list"),
    ("same with `If-None-Match` (304)", "catalog_304", "bare"),
    ("API orders, 20 of 10,000 × scale", "orders", "list"),
    ("API SIMs, 20 of 10,000 × scale", "sims", "list"),
    ("site `/plans/`", "site_plans", "list"),
    ("My SIMs (25 SIMs)", "my_sims", "list"),
)
CEILING_LABELS = {"bare": "bare DRF view", "list": "20-row list"}
READS = tuple(dict.fromkeys(name for _measure, name, _ceiling in READ_ROWS))


def chosen(urls: dict, names: list[str] | None) -> dict:
    """The reads named (all when none are), always with the ceiling's two."""
    return {
        name: url for name, url in urls.items() if not names or name in (*names, *CEILING_LABELS)
    }


def reads(urls: dict, args, wrk: str | None) -> dict[str, dict]:
    """Medians over interleaved rounds of every URL (each checked, and warmed up, first)."""
    for name, (url, headers, expected) in urls.items():
        for _ in range(4):  # warms both workers up as well
            status = fetch(url, headers)[0]
            assert status == expected, f"{name}: {url} answered {status}, not {expected}"
    runs = {name: [] for name in urls}
    for round_number in range(args.rounds):
        for name, (url, headers, _) in urls.items():
            run = load.get(url, headers, args.duration, args.connections, wrk)
            print(f"round {round_number + 1} {name}: {run}", flush=True)
            if run.bad:
                print(f"  {name}: {run.bad} bad answers of {run.requests}", flush=True)
            runs[name].append({"rps": run.rps, "p50": run.p50, "p99": run.p99})
    return {name: table.medians(values) for name, values in runs.items()}


def place_orders(
    portal: str, data: dict, count: int, connections: int, label: str, rate: float | None = None
) -> dict:
    """POST ``count`` partner orders (as fast as the connections go, or ``rate`` a second), then
    wait until each is provisioned: orders/s from the first POST to the last order done, POST
    p50/p99."""
    from benchmarks.http_data import finished_orders

    headers = {**FORWARDED, "Authorization": f"Bearer {data['api_key']}"}
    headers["Content-Type"] = "application/json"
    requests = [
        (
            {**headers, "Idempotency-Key": f"{label}-{i}"},
            json.dumps({"plan": data["plan"], "customer_reference": f"{label}-{i}"}).encode(),
        )
        for i in range(count)
    ]
    started = time.monotonic()
    url = f"{portal}/api/v1/orders/"
    answers = load.post(url, requests, connections, rate or 0)
    refused = [status for status, _ in answers if status != 201]
    deadline = time.monotonic() + 600
    while (done := finished_orders(label))[0] < count - len(refused):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    seconds = time.monotonic() - started
    p50, p99 = load.percentiles([ms for _, ms in answers])
    if refused or done[1] < count:
        print(f"  {label}: {len(refused)} POSTs refused, {done[1]} of {count} fulfilled")
    return {"rps": done[1] / seconds, "p50": p50, "p99": p99}


def noop_tasks(count: int) -> dict:
    """Send ``count`` no-op tasks and wait until each has run: tasks/s."""
    from benchmarks.ceiling.tasks import noop

    started = time.monotonic()
    for number in range(count):
        noop.delay(number)
    wait_drained()
    return {"rps": count / (time.monotonic() - started)}


def wait_drained(timeout: float = 600) -> None:
    """Until the ceiling worker has run every no-op sent."""
    from benchmarks.ceiling.tasks import drained

    deadline = time.monotonic() + timeout
    while not drained():
        if time.monotonic() > deadline:
            raise TimeoutError("the ceiling worker did not run the no-op tasks")
        time.sleep(0.02)


def pipeline(portal: str, data: dict, args, env: dict, workdir: Path) -> tuple[dict, dict, dict]:
    """Interleaved rounds of partner orders (portal worker) and no-op tasks (ceiling worker),
    then rounds of orders paced at half the peak rate (the POST latency a partner sees)."""
    from benchmarks.ceiling.tasks import noop

    worker = [str(ROOT / "deploy/entrypoint"), "worker"]
    ceiling = [str(BIN / "celery"), "-A", "benchmarks.ceiling.tasks", "worker", "-c", "2"]
    ceiling += ["-Q", "celery", "--hostname", "ceiling@%h", "--loglevel", "INFO"]
    portal_runs, ceiling_runs = [], []
    with (
        process("portal-worker", worker, env, workdir),
        process("ceiling-worker", ceiling, env, workdir),
    ):
        noop.delay(0)
        wait_drained(120)
        place_orders(portal, data, 1, 1, "warm-up")
        for round_number in range(args.rounds):
            label = f"bench-{round_number}"
            portal_runs.append(place_orders(portal, data, args.orders, args.connections, label))
            ceiling_runs.append(noop_tasks(args.tasks))
            print(
                f"round {round_number + 1} pipeline: {portal_runs[-1]}, no-op: {ceiling_runs[-1]}"
            )
        peak = table.medians(portal_runs)
        half = [
            place_orders(portal, data, args.orders, args.connections, f"half-{n}", peak["rps"] / 2)
            for n in range(args.rounds)
        ]
        print(f"at half of peak ({peak['rps'] / 2:.1f} orders/s): {half}", flush=True)
    return peak, table.medians(ceiling_runs), table.medians(half)


def rows(read: dict, orders: dict, noop: dict, half: dict) -> list[dict]:
    """The table's rows: the reads, then the pipeline (those that ran)."""
    return (read_rows(read) if read else []) + (pipeline_rows(orders, noop, half) if orders else [])


def read_rows(read: dict) -> list[dict]:
    return [
        table.row(measure, read[name], read[ceiling], CEILING_LABELS[ceiling])
        for measure, name, ceiling in READ_ROWS
        if name in read
    ]


def pipeline_rows(orders: dict, noop: dict, half: dict) -> list[dict]:
    return [
        table.row(
            "orders placed + provisioned (POST p50/p99)",
            orders,
            noop,
            "Celery no-op",
            unit="orders/s",
            ceiling_unit="tasks/s",
        ),
        table.row(
            "same, POSTs paced at half of peak (POST p50/p99)",
            half,
            noop,
            "Celery no-op",
            unit="orders/s",
            ceiling_unit="tasks/s",
        ),
    ]


def machine(wrk: str | None) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    return {
        "date": date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {memory:.0f} GiB, {cpu}",
        "python": platform.python_version(),
        "postgresql": postgres,
        "load generator": "wrk" if wrk else "Python threads (wrk not available)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scale", type=int, default=1, help="× 10,000 partner orders and SIMs")
    parser.add_argument("--orders", type=int, default=1000, help="partner orders a round")
    parser.add_argument("--tasks", type=int, default=2000, help="no-op tasks a round")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--pipeline-only", action="store_true", help="skip the reads")
    parser.add_argument("--reads-only", action="store_true", help="skip the pipeline")
    parser.add_argument(
        "--read", action="append", choices=READS, help="only this read (and the ceiling's)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run it on the services harness: scripts/bench (see the docstring).")

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    port, ceiling_port = free_port(), free_port()
    env = portal_env(workdir, port)
    os.environ.update(env)
    import django

    django.setup()
    from benchmarks.http_data import build

    wrk = load.find_wrk()
    started = time.monotonic()
    data = build(args.scale)
    print(f"data built in {time.monotonic() - started:.0f} s; logs in {workdir}", flush=True)
    portal, ceiling = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ceiling_port}"
    with gunicorn("portal-web", "portal.wsgi:application", port, env, workdir):
        wait_for(f"{portal}/health/live")
        ceiling_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling.settings"}
        app = "benchmarks.ceiling.wsgi:application"
        with gunicorn("ceiling-web", app, ceiling_port, ceiling_env, workdir):
            wait_for(f"{ceiling}/bare/")
            urls = chosen(targets(portal, ceiling, data), args.read)
            read = {} if args.pipeline_only else reads(urls, args, wrk)
        orders, noop, half = (
            ({}, {}, {}) if args.reads_only else pipeline(portal, data, args, env, workdir)
        )
    settings = {**machine(wrk), **{k: v for k, v in vars(args).items() if k != "json"}}
    results = rows(read, orders, noop, half)
    print("\n" + "\n".join(f"{key}: {value}" for key, value in settings.items()))
    print("\n" + table.markdown(results))
    if args.json:
        table.write_json(args.json, results, settings)


if __name__ == "__main__":
    main()
