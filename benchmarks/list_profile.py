"""The partner order and SIM lists beside the ceiling's 20-row list, in process (not a test).

    python scripts/with_services.py -- .venv/bin/python benchmarks/list_profile.py \
        [--requests 200] [--rounds 7] [--scale 1] [--profile 30] [--only orders|sims]

Builds the HTTP benchmark's data (benchmarks/http_data.py) and calls Django's WSGI handler, as
gunicorn does, in production mode: ``GET /api/v1/orders/?page_size=20`` and
``/api/v1/sims/?page_size=20`` with the partner's key. The ceiling's ``/items/`` runs in a
process of its own with the ceiling's settings (benchmarks/ceiling/), in rounds interleaved with
the portal's (a busy moment of the machine hits both). Prints, per URL, the medians over the
rounds of milliseconds and of this process's CPU milliseconds per request, the ratio of CPU
time to the ceiling's, and the queries of one request; with ``--profile N``, cProfile's top N
functions of each portal list by own and by cumulative time.
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
CEILING_PATH = "/items/"


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


def check(get) -> list[str]:
    """The queries of one request (its page holds 20 rows); warms the path up."""
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
    for _ in range(50):
        get()
    return queries


def run(get, requests: int) -> tuple[float, float]:
    """Milliseconds and this process's CPU milliseconds per request over ``requests``."""
    started, started_cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        get()
    wall = (time.perf_counter() - started) * 1000 / requests
    return wall, (time.process_time() - started_cpu) * 1000 / requests


def profile(name: str, get, requests: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        get()
    profiler.disable()
    print(f"\n{name}:")
    stats = pstats.Stats(profiler).sort_stats("tottime")
    stats.print_stats(top)
    stats.sort_stats("cumulative").print_stats(top * 2)
    sys.stdout.flush()


def ceiling() -> None:
    """The ceiling's side: one round of requests for each line read (its count), answered with
    a line of milliseconds and CPU milliseconds per request."""
    import django

    django.setup()
    get = caller(CEILING_PATH, {})
    print(json.dumps(check(get)), flush=True)
    for line in sys.stdin:
        print(json.dumps(run(get, int(line))), flush=True)


def report(name: str, rounds: list, queries: list, ceiling_cpu: float | None) -> None:
    wall = statistics.median(run[0] for run in rounds)
    cpu = statistics.median(run[1] for run in rounds)
    ratio = f", {cpu / ceiling_cpu:.2f} of the ceiling's CPU" if ceiling_cpu else ""
    print(f"{name}: {wall:.3f} ms a request, {cpu:.3f} ms CPU{ratio}; {len(queries)} queries")
    for sql in queries:
        print("  ", sql[:160])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests a round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scale", type=int, default=1, help="× 10,000 partner orders and SIMs")
    parser.add_argument("--profile", type=int, default=0, help="top functions to print")
    parser.add_argument("--only", choices=list(PORTAL_PATHS))
    parser.add_argument("--ceiling", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run it on the services harness (see the docstring).")
    if args.ceiling:
        ceiling()
        return
    from benchmarks.web import portal_env

    env = portal_env(Path(tempfile.mkdtemp(prefix="portal-lists-")), 8000)
    os.environ.update(env)
    import django

    django.setup()
    from benchmarks.http_data import build

    data = build(args.scale)
    headers = {"Authorization": f"Bearer {data['api_key']}"}
    names = [args.only] if args.only else list(PORTAL_PATHS)
    gets = {name: caller(PORTAL_PATHS[name], headers) for name in names}
    queries = {name: check(get) for name, get in gets.items()}
    command = [sys.executable, __file__, "--ceiling"]
    ceiling_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling.settings"}
    with subprocess.Popen(
        command, env=ceiling_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        queries["ceiling list"] = json.loads(child.stdout.readline())
        rounds = {name: [] for name in [*gets, "ceiling list"]}
        for _ in range(args.rounds):
            for name, get in gets.items():
                rounds[name].append(run(get, args.requests))
            child.stdin.write(f"{args.requests}\n")
            child.stdin.flush()
            rounds["ceiling list"].append(json.loads(child.stdout.readline()))
        child.stdin.close()
    ceiling_cpu = statistics.median(run[1] for run in rounds["ceiling list"])
    for name, runs in rounds.items():
        report(name, runs, queries[name], None if name == "ceiling list" else ceiling_cpu)
    if args.profile:
        for name, get in gets.items():
            profile(name, get, args.requests * 2, args.profile)


if __name__ == "__main__":
    main()
