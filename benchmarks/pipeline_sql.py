"""What one partner order costs the databases, placed and provisioned (not a test).

    scripts/with_services.py -- .venv/bin/python benchmarks/pipeline_sql.py [--orders 200]

On the harness's PostgreSQL (with ``pg_stat_statements`` when the server has it preloaded) and
Redis: migrates, builds the test worlds' catalog and partner (a funded wallet), then POSTs
``--orders`` eSIM purchases through the real API entry point (the test client, production
settings, each with its Idempotency-Key) and runs the tasks they queue in this process, as a
worker would take them off the broker, until none is left. Reads the deltas of
``pg_stat_database`` (transactions, rows inserted/updated/deleted), of ``pg_stat_statements``
(statements by kind) and of Redis ``INFO commandstats`` around each phase (placing, provisioning)
and prints them per order. Broker traffic is not in the Redis figures (the tasks are not sent);
the task messages per order are counted instead.
"""

import os
import sys

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import argparse  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from decimal import Decimal  # noqa: E402

from cryptography.fernet import Fernet  # noqa: E402

STATEMENT_KINDS = (
    *("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"),
    *("ROLLBACK", "foreign key checks"),
)


# Per order, placed and provisioned, before the pipeline was trimmed (2026-12-02, this script
# on the harness's PostgreSQL 15): printed beside this run's totals.
BEFORE = {
    "transactions": 18,
    "rows inserted": 12,
    "rows updated": 8,
    "rows deleted": 0,
    "statements: BEGIN": 6,
    "statements: COMMIT": 6,
    "statements: RELEASE": 7,
    "statements: SAVEPOINT": 7,
    "statements: SELECT": 31,
    "statements: INSERT": 12,
    "statements: UPDATE": 8,
    "statements: foreign key checks": 20,
}


def configure() -> None:
    """Production settings (as the HTTP benchmark runs the portal) for this process."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_MODE": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "IDENTITY_DOCUMENT_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "SITE_URL": "http://127.0.0.1",
            "ALLOW_TEST_PAYMENTS": "1",
            "ALLOW_LOCAL_MEDIA": "1",
            "PORTAL_VAR_DIR": tempfile.mkdtemp(prefix="portal-pipeline-sql-"),
            "EMAIL_URL": "dummymail://",
            "DATABASE_CONN_MAX_AGE": "60",
            "API_RATE_LIMIT_PER_MINUTE": "1000000000",
        }
    )
    import django

    django.setup()


class Worker:
    """Takes the tasks sent after commit and runs them here, one after another (a worker)."""

    def __init__(self):
        self.queue: list = []
        self.sent: Counter = Counter()

    def __enter__(self):
        from celery.app.task import Task

        self._original = Task.apply_async
        worker = self

        def apply_async(task, args=None, kwargs=None, **options):
            worker.queue.append((task, args or (), kwargs or {}))
            worker.sent[task.name] += 1

        Task.apply_async = apply_async
        return self

    def __exit__(self, *exc):
        from celery.app.task import Task

        Task.apply_async = self._original

    def drain(self) -> int:
        """Run every queued task (and those they queue); how many ran."""
        ran = 0
        while self.queue:
            task, args, kwargs = self.queue.pop(0)
            task.run(*args, **kwargs)
            ran += 1
        return ran


def database_counters() -> dict:
    """This database's transaction and row counters, this backend's pending stats flushed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    names = ("transactions", "rollbacks", "rows inserted", "rows updated", "rows deleted")
    return dict(zip(names, row, strict=True))


def statements_available() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in cursor.fetchone()[0]:
            return False
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def reset_statements() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_statements_reset()")


def statement_counts() -> tuple[dict, list]:
    """Calls by statement kind since the reset, and the most called statements."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query, calls FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND query NOT LIKE '%pg_stat%' AND query NOT ILIKE 'SHOW %'"
        )
        rows = cursor.fetchall()
    kinds: Counter = Counter()
    for query, calls in rows:
        word = query.lstrip().split(None, 1)[0].upper()
        if "FOR KEY SHARE OF x" in query:
            word = "foreign key checks"  # the server's own, for each INSERT/UPDATE of a reference
        kinds[word if word in STATEMENT_KINDS else "other"] += calls
    return dict(kinds), sorted(rows, key=lambda row: -row[1])


def redis_commands() -> Counter:
    from django.conf import settings
    from redis import Redis

    info = Redis.from_url(settings.REDIS_URL).info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): stats["calls"] for name, stats in info.items()})


def measure(phase, has_statements: bool) -> dict:
    """Run ``phase`` and return the counters' deltas (the measuring's own cost taken off)."""
    if has_statements:
        reset_statements()
    idle_before = database_counters()
    before = database_counters()  # the cost of one reading: before - idle_before
    redis_before = redis_commands()
    started = time.perf_counter()
    phase()
    seconds = time.perf_counter() - started
    after = database_counters()
    redis_after = redis_commands()
    result = {
        name: after[name] - before[name] - (before[name] - idle_before[name]) for name in before
    }
    redis_delta = redis_after - redis_before
    redis_delta["info"] -= 1
    result["wall time, ms"] = seconds * 1000
    result["redis commands"] = sum(redis_delta.values())
    result["redis by command"] = dict(+redis_delta)
    if has_statements:
        kinds, top = statement_counts()
        result["statements"] = kinds
        result["top"] = top[:40]
    return result


def build(orders_count: int):
    from django.core.management import call_command

    from plans.models import Plan, PlanKind
    from tests.factories import WalletEntryFactory
    from tests.worlds import build_catalog, build_partner

    call_command("migrate", verbosity=0)
    build_catalog()
    partner = build_partner()
    WalletEntryFactory(partner=partner, amount=Decimal("1000000000"), reason="Benchmark top-up")
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="jazz").order_by("pk").first()
    return partner, plan


def post_orders(client, plan, label: str, count: int) -> None:
    from tests.worlds import PARTNER_KEY_PREFIX, PARTNER_KEY_SECRET

    headers = {
        "Authorization": f"Bearer {PARTNER_KEY_PREFIX}.{PARTNER_KEY_SECRET}",
        "X-Forwarded-Proto": "https",
    }
    for i in range(count):
        response = client.post(
            "/api/v1/orders/",
            json.dumps({"plan": plan.pk, "customer_reference": f"{label}-{i}"}),
            content_type="application/json",
            headers={**headers, "Idempotency-Key": f"{label}-{i}"},
            secure=True,
        )
        if response.status_code != 201:
            raise SystemExit(f"POST answered {response.status_code}: {response.content[:500]}")


def per_order(figures: dict, count: int) -> dict:
    return {
        name: value / count for name, value in figures.items() if isinstance(value, int | float)
    }


def print_table(phases: dict, count: int) -> None:
    names = [
        "transactions",
        "rollbacks",
        "rows inserted",
        "rows updated",
        "rows deleted",
        "redis commands",
        "wall time, ms",
    ]
    kinds = sorted({kind for figures in phases.values() for kind in figures.get("statements", {})})
    print(f"\nPer order ({count} partner eSIM purchases, one eSIM each):\n")
    print("| measure | " + " | ".join(phases) + " | total before |")
    print("|---" * (len(phases) + 2) + "|")
    for name in names:
        cells = [f"{phases[p][name] / count:.2f}" for p in phases]
        print(f"| {name} | " + " | ".join(cells) + f" | {BEFORE.get(name, '—')} |")
    for kind in kinds:
        cells = [f"{phases[p].get('statements', {}).get(kind, 0) / count:.2f}" for p in phases]
        before = BEFORE.get(f"statements: {kind}", "—")
        print(f"| statements: {kind} | " + " | ".join(cells) + f" | {before} |")
    for p, figures in phases.items():
        if "tasks" in figures:
            print(f"\n{p}: task messages per order: {figures['tasks'] / count:.2f}")
        print(f"{p}: Redis per order: ", end="")
        print(
            ", ".join(
                f"{k} {v / count:.2f}" for k, v in sorted(figures["redis by command"].items())
            )
        )
    for p, figures in phases.items():
        if figures.get("top"):
            print(f"\n{p}: the most called statements (calls per order):")
            for query, calls in figures["top"]:
                print(f"  {calls / count:6.2f}  {' '.join(query.split())[:150]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Run through scripts/with_services.py (PostgreSQL and Redis).")
    configure()
    from django.test import Client

    from orders.models import Order

    _partner, plan = build(args.orders)
    has_statements = statements_available()
    client = Client()
    with Worker() as worker:
        post_orders(client, plan, "warm", 5)  # caches, content types, connections
        worker.drain()
        worker.sent.clear()
        placing = measure(lambda: post_orders(client, plan, "run", args.orders), has_statements)
        placing["tasks"] = sum(worker.sent.values())
        worker.sent.clear()
        provisioning = measure(worker.drain, has_statements)
        provisioning["tasks"] = sum(worker.sent.values())
    fulfilled = Order.objects.filter(
        customer_reference__startswith="run-", status=Order.Status.FULFILLED
    ).count()
    if fulfilled != args.orders:
        raise SystemExit(f"Only {fulfilled} of {args.orders} orders were fulfilled.")
    total = {
        name: placing[name] + provisioning[name]
        for name in placing
        if isinstance(placing[name], int | float)
    }
    total["redis by command"] = dict(
        Counter(placing["redis by command"]) + Counter(provisioning["redis by command"])
    )
    if has_statements:
        total["statements"] = dict(
            Counter(placing["statements"]) + Counter(provisioning["statements"])
        )
    phases = {"placing (POST)": placing, "provisioning (tasks)": provisioning, "total": total}
    if not has_statements:
        print("pg_stat_statements is not preloaded: statement kinds are not counted.")
    print_table(phases, args.orders)
    if args.json:
        with open(args.json, "w") as out:
            json.dump({p: per_order(f, args.orders) for p, f in phases.items()}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
