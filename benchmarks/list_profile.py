"""The partner order and SIM lists beside the ceiling's 20-row list, in process (not a test).

    python scripts/with_services.py -- .venv/bin/python benchmarks/list_profile.py \
        [--requests 500] [--scale 1] [--profile 30] [--only orders|sims|list]

Builds the HTTP benchmark's data (benchmarks/http_data.py) and calls Django's WSGI handler, as
gunicorn does, in production mode: ``GET /api/v1/orders/?page_size=20`` and
``/api/v1/sims/?page_size=20`` with the partner's key, then, in a process of its own with the
ceiling's settings (benchmarks/ceiling/), its ``/items/``. Prints milliseconds per request and
this process's CPU milliseconds per request (medians of five runs) and the queries of one
request; with ``--profile N``, cProfile's top N functions by own time and cumulative time.
"""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

PORTAL_PATHS = {"orders": "/api/v1/orders/", "sims": "/api/v1/sims/"}
CEILING_PATHS = {"list": "/items/"}


def environ(path: str, query: str, headers: dict[str, str]) -> dict:
    """A WSGI environ of a GET as gunicorn gives it behind the load balancer."""
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **meta,
    }


def caller(path: str, headers: dict[str, str]):
    """A function that GETs ``path`` (20 rows) through the WSGI handler and checks the 200."""
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    answered = []

    def start_response(status, response_headers, exc_info=None):
        answered.append(status)

    def get() -> bytes:
        answered.clear()
        result = handler(environ(path, "page_size=20", headers), start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
        assert answered[0].startswith("200"), (path, answered[0], body[:300])
        return body

    return get


def measure(name: str, get, requests: int, profile: int) -> None:
    from django.db import connection

    body = get()
    rows = json.loads(body)
    rows = rows.get("results", rows) if isinstance(rows, dict) else rows
    assert len(rows) == 20, len(rows)
    queries = []

    def keep(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        get()
    for _ in range(requests // 5):  # warm up
        get()
    runs, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(requests // 5):
            get()
        runs.append((time.perf_counter() - started) * 1000 / (requests // 5))
        cpu.append((time.process_time() - started_cpu) * 1000 / (requests // 5))
    print(
        f"{name}: {statistics.median(runs):.3f} ms a request, {statistics.median(cpu):.3f} ms "
        f"of this process's CPU (runs {', '.join(f'{run:.3f}' for run in runs)}), "
        f"{len(queries)} queries, {len(body)} bytes",
        flush=True,
    )
    for sql in queries:
        print("  ", sql[:200])
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            get()
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(profile)
        stats.sort_stats("cumulative").print_stats(profile * 2)
    sys.stdout.flush()


def portal(args) -> dict:
    """Build the data, measure the portal's lists; the environment the ceiling runs in."""
    from benchmarks.web import portal_env

    env = portal_env(Path(tempfile.mkdtemp(prefix="portal-lists-")), 8000)
    os.environ.update(env)
    import django

    django.setup()
    from benchmarks.http_data import build

    data = build(args.scale)
    headers = {"Authorization": f"Bearer {data['api_key']}"}
    for name, path in PORTAL_PATHS.items():
        if args.only in (None, name):
            measure(name, caller(path, headers), args.requests, args.profile)
    return env


def ceiling(args) -> None:
    import django

    django.setup()
    for name, path in CEILING_PATHS.items():
        measure(f"ceiling {name}", caller(path, {}), args.requests, args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--scale", type=int, default=1, help="× 10,000 partner orders and SIMs")
    parser.add_argument("--profile", type=int, default=0, help="top functions to print")
    parser.add_argument("--only", choices=[*PORTAL_PATHS, *CEILING_PATHS])
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run it on the services harness (see the docstring).")
    if args.ceiling:
        ceiling(args)
        return
    env = portal(args)
    if args.only not in (None, *CEILING_PATHS):
        return
    command = [sys.executable, __file__, "--ceiling", *sys.argv[1:]]
    ceiling_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling.settings"}
    subprocess.run(command, env=ceiling_env, check=True)


if __name__ == "__main__":
    main()
