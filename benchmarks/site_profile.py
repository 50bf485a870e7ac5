"""A signed-in site page through Django's test client in production mode (not a test).

    python scripts/with_services.py -- .venv/bin/python benchmarks/site_profile.py \
        [--path /sims/] [--requests 300] [--profile 25] [--language en]

Builds the HTTP benchmark's data (benchmarks/http_data.py: 25 SIMs for the customer), then GETs
the page with the customer's session cookie: milliseconds per request and this process's CPU time
per request (medians of five runs), the queries of one request; with ``--profile N``, cProfile's
top N functions by own time.
"""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="/sims/")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="top functions to print")
    parser.add_argument("--language", default="en")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Run it on the services harness (see the docstring).")
    from benchmarks.web import portal_env

    os.environ.update(portal_env(Path(tempfile.mkdtemp(prefix="portal-profile-")), 8000))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from benchmarks.http_data import build

    cookie = build(1)["cookie"].split("=", 1)[1]
    client = Client(HTTP_X_FORWARDED_PROTO="https", SERVER_NAME="localhost")
    client.cookies["sessionid"] = cookie
    client.cookies["django_language"] = args.language

    def get():
        response = client.get(args.path)
        assert response.status_code == 200, response.status_code

    get()
    queries = []  # request_started empties connection.queries: a wrapper keeps them instead

    def keep(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        get()
    runs, cpu = [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests // 5):
            get()
        runs.append((time.perf_counter() - started) * 1000 / (args.requests // 5))
        cpu.append((time.process_time() - started_cpu) * 1000 / (args.requests // 5))
    print(
        f"{args.path} [{args.language}]: {statistics.median(runs):.2f} ms a request "
        f"(runs {', '.join(f'{run:.2f}' for run in runs)}), "
        f"CPU {statistics.median(cpu):.2f} ms a request (this process), {len(queries)} queries"
    )
    for sql in queries:
        print("  ", sql[:160])
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            get()
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("tottime")
        stats.print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile * 2)


if __name__ == "__main__":
    main()
