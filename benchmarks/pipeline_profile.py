"""CPU per partner order, placed and provisioned, and what it sends (not a test).

    scripts/with_services.py -- .venv/bin/python benchmarks/pipeline_profile.py \
        [--orders 200] [--profile 30] [--statements]

On the harness's PostgreSQL and Redis, with production settings (``pipeline_sql.configure``):
POSTs ``--orders`` eSIM purchases through the test client, the tasks they queue published to
the real broker; then takes those messages (and any the tasks send) off the broker and runs each
as a worker process does: Celery's tracer (signals, started state, result, the Django fixup's
per-task hooks) and the ack. Prints per order, for each phase: this process's CPU, the
PostgreSQL server's CPU (all its processes), Redis's CPU, Redis commands (the broker's
included), task messages, statements and new database connections. With ``--profile N``,
cProfile's top N functions of each phase by own time.
"""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from contextlib import nullcontext  # noqa: E402
from pathlib import Path  # noqa: E402


def postgres_cpu() -> float:
    """Seconds of CPU the whole PostgreSQL server has used: its processes now, and those that
    have ended (a backend per closed connection) through the postmaster's children times."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        directory = cursor.fetchone()[0]
    postmaster = psutil.Process(int(Path(directory, "postmaster.pid").read_text().split()[0]))
    times = postmaster.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in postmaster.children():
        try:
            child_times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += child_times.user + child_times.system
    return total


def server_figures() -> dict:
    """Redis's CPU and commands (every database: cache and broker), PostgreSQL's sessions."""
    from django.conf import settings
    from django.db import connection
    from redis import Redis

    redis = Redis.from_url(settings.REDIS_URL)
    cpu = redis.info("cpu")
    stats = redis.info("commandstats")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        sessions = cursor.fetchone()[0]
    return {
        "redis cpu": cpu["used_cpu_user"] + cpu["used_cpu_sys"],
        "commands": Counter({k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}),
        "sessions": sessions,
    }


class Broker:
    """Counts the task messages published; takes them off the broker and runs them as a
    worker process does."""

    def __init__(self):
        from celery.signals import before_task_publish

        self.sent: Counter = Counter()
        before_task_publish.connect(self._count, weak=False)

    def _count(self, sender=None, **kwargs):
        self.sent[sender] += 1

    def drain(self) -> int:
        """Run every message on the portal's queues (and those they send); how many ran."""
        from celery.app.trace import trace_task

        from portal.celery import ALL_QUEUES, app

        ran = 0

        def run(body, message):
            nonlocal ran
            args, kwargs, _embed = body
            headers = message.headers
            task = app.tasks[headers["task"]]
            request = {
                **headers,
                "delivery_info": message.delivery_info,
                "reply_to": message.properties.get("reply_to"),
                "correlation_id": message.properties.get("correlation_id"),
                "hostname": "profile@localhost",
                "is_eager": False,
            }
            trace_task(task, headers["id"], args, kwargs, request, app=app, eager=False)
            message.ack()
            ran += 1

        queues = [app.amqp.queues[name] for name in ALL_QUEUES]
        with (
            app.connection_for_read() as connection,
            connection.Consumer(queues, callbacks=[run], accept=["json"]),
        ):
            while True:
                try:
                    connection.drain_events(timeout=1)
                except TimeoutError:
                    return ran


def install_worker_hooks() -> None:
    """What a worker connects at start: the Django fixup's per-task hooks."""
    from portal.celery import app

    for fixup in app._fixups:
        if hasattr(fixup, "worker_fixup"):
            fixup.worker_fixup.install()


def measure(phase, orders: int, profile: int, show: bool = False) -> dict:
    """Run ``phase``; its figures per order. ``show``: print the last order's statements."""
    from django.db import connection

    statements: list[str] = []

    def keep(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    before, pg_before = server_figures(), postgres_cpu()
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(keep), profiler or nullcontext():
        phase()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pg_cpu = postgres_cpu() - pg_before
    after = server_figures()
    commands = after["commands"] - before["commands"]
    commands["info"] -= 2
    if show:
        print("\n".join(statements[-(len(statements) // orders) :]), end="\n\n")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile * 2)
    return {
        "python CPU ms": cpu * 1000 / orders,
        "wall ms": wall * 1000 / orders,
        "PostgreSQL CPU ms": pg_cpu * 1000 / orders,
        "Redis CPU ms": (after["redis cpu"] - before["redis cpu"]) * 1000 / orders,
        "Redis commands": sum((+commands).values()) / orders,
        "new database connections": (after["sessions"] - before["sessions"]) / orders,
        "statements": len(statements) / orders,
        "by command": {k: v / orders for k, v in sorted((+commands).items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="top functions to print")
    parser.add_argument("--statements", action="store_true", help="print one order's SQL")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run through scripts/with_services.py (PostgreSQL and Redis).")
    from benchmarks.pipeline_sql import build, configure, post_orders

    configure()
    from django.test import Client

    from orders.models import Order

    _partner, plan = build(args.orders)
    install_worker_hooks()
    broker, client = Broker(), Client()
    post_orders(client, plan, "warm", 5)
    broker.drain()
    broker.sent.clear()
    phases = {}
    phases["placing"] = measure(
        lambda: post_orders(client, plan, "run", args.orders),
        args.orders,
        args.profile,
        args.statements,
    )
    phases["placing"]["task messages"] = sum(broker.sent.values()) / args.orders
    broker.sent.clear()
    phases["provisioning"] = measure(broker.drain, args.orders, args.profile, args.statements)
    phases["provisioning"]["task messages"] = sum(broker.sent.values()) / args.orders
    done = Order.objects.filter(customer_reference__startswith="run-", status="fulfilled")
    if done.count() != args.orders:
        raise SystemExit(f"Only {done.count()} of {args.orders} orders were fulfilled.")
    print(f"\nPer order ({args.orders} partner eSIM purchases):\n")
    print("| measure | placing | provisioning | total |\n|---|---|---|---|")
    for name, value in phases["placing"].items():
        if name == "by command":
            continue
        other = phases["provisioning"][name]
        print(f"| {name} | {value:.2f} | {other:.2f} | {value + other:.2f} |")
    for name, figures in phases.items():
        commands = ", ".join(f"{k} {v:.2f}" for k, v in figures["by command"].items())
        print(f"\n{name}: Redis commands per order: {commands}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
