"""Admin lists over 1,000,000 orders and 100,000 SIMs: render time and queries (not a test).

    .venv/bin/python scripts/with_services.py -- .venv/bin/python benchmarks/admin_scale.py \\
        [--orders 1000000] [--sims 100000] [--runs 20] [--explain]

Needs PostgreSQL (the services harness starts a throwaway one and sets DATABASE_URL): the data
is written with COPY and the big lists page on the planner's row estimate. Migrates, loads the
demo catalog and the data set (see admin_scale_data.py), runs VACUUM ANALYZE, then renders each
page with the Django test client as a superuser (signed in with two-factor), once to warm up
and ``--runs`` times measured, and prints median and p95 render time, queries per page and the
slowest query (``--explain``: the plans of queries over 20 ms). Last, it times what the admin
no longer runs: exact counts, a full DISTINCT, Django's default order search and the date
hierarchy's year list.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", "/tmp/bench")

import django

django.setup()

from django.contrib import admin  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Exists, OuterRef  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.models import User  # noqa: E402
from benchmarks.admin_scale_data import DataSet, iccid, order_number  # noqa: E402
from core.models import AuditEntry  # noqa: E402
from orders.models import Order, Payment  # noqa: E402
from portal.demo import load_demo_data  # noqa: E402
from tests.staff import login_staff  # noqa: E402


def pages(data: DataSet) -> list[tuple[str, str]]:
    """(label, URL) of every page measured."""
    middle = data.orders // 2
    order = data.order_base + middle
    return [
        ("orders", "/admin/orders/order/"),
        ("orders, page 50", "/admin/orders/order/?p=50"),
        ("orders: status needs attention", "/admin/orders/order/?status__exact=needs_attention"),
        ("orders: awaiting manual payment", "/admin/orders/order/?problem=manual_payment"),
        ("orders: search by number", f"/admin/orders/order/?q={order_number(middle)}"),
        ("orders: search by ICCID", f"/admin/orders/order/?q={iccid(data.sims // 2)}"),
        ("orders: search by customer email", "/admin/orders/order/?q=c4242@bench.example"),
        ("order change page", f"/admin/orders/order/{order}/change/"),
        ("SIMs", "/admin/orders/sim/"),
        ("SIMs: search by ICCID", f"/admin/orders/sim/?q={iccid(data.sims // 2)}"),
        ("SIMs: search by part of an ICCID", f"/admin/orders/sim/?q={iccid(data.sims // 2)[-6:]}"),
        ("payments", "/admin/orders/payment/"),
        ("audit trail", "/admin/core/auditentry/"),
        ("audit trail: one action", "/admin/core/auditentry/?action=payment.status"),
        ("wallet entries", "/admin/orders/walletentry/"),
        ("users", "/admin/accounts/user/"),
        ("partners (ledger balances)", "/admin/accounts/partner/"),
    ]


def measure(client: Client, url: str, runs: int) -> dict:
    """Render ``url`` once to warm up, then ``runs`` times; times in milliseconds."""
    assert client.get(url).status_code == 200, url
    times, slowest = [], (0.0, "")
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        slowest = max(slowest, *((float(q["time"]) * 1000, q["sql"]) for q in ctx))
    return {
        "median": statistics.median(times),
        "p95": statistics.quantiles(times, n=20, method="inclusive")[-1],
        "queries": len(ctx),
        "slowest": slowest[0],
        "slowest_sql": slowest[1],
        "shown": str(response.context["cl"].result_count) if "cl" in response.context else "—",
    }


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {sql}")
        return "\n".join(f"    {row[0]}" for row in cursor.fetchall())


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def avoided(data: DataSet) -> list[tuple[str, float]]:
    """What the stock admin would run on these pages, timed once each (ms)."""
    term = order_number(data.orders // 2)
    order_admin = admin.site.get_model_admin(Order)
    found, _ = admin.ModelAdmin.get_search_results(order_admin, None, Order.objects.all(), term)
    stock_search = Order.objects.filter(Exists(found.filter(pk=OuterRef("pk"))))
    return [
        ("exact count of orders", timed(Order.objects.count)),
        ("exact count of payments", timed(Payment.objects.count)),
        ("exact count of audit entries", timed(AuditEntry.objects.count)),
        (
            "SELECT DISTINCT action over the audit trail",
            timed(lambda: list(AuditEntry.objects.values_list("action").distinct())),
        ),
        (
            "Django's default order search (OR over joins), first page",
            timed(lambda: list(stock_search.order_by("-created_at", "-id")[:100])),
        ),
        (
            "date hierarchy: the years of all orders",
            timed(lambda: list(Order.objects.datetimes("created_at", "year"))),
        ),
    ]


def machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
        f"PostgreSQL {version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="plans of queries over 20 ms")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this on PostgreSQL: scripts/with_services.py -- … (see the docstring).")
    setup_test_environment()
    call_command("migrate", verbosity=0)
    load_demo_data()
    started = time.perf_counter()
    data = DataSet(args.orders, args.sims)
    written = data.load()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"machine: {machine()}")
    print(f"loaded {', '.join(f'{n:,} {table}' for table, n in written.items())}")
    print(f"in {loaded:.0f} s; VACUUM ANALYZE {time.perf_counter() - started:.0f} s")

    client = Client()
    login_staff(client, User.objects.create_superuser(email="bench@paksim.example"))
    print("\n| page | count shown | median ms | p95 ms | queries | slowest query ms |")
    print(f"|{'---|' * 6}")
    slow = []
    for label, url in pages(data):
        result = measure(client, url, args.runs)
        print(
            f"| {label} | {result['shown']} | {result['median']:.0f} | {result['p95']:.0f} "
            f"| {result['queries']} "
            f"| {result['slowest']:.1f} |",
            flush=True,
        )
        if result["slowest"] > 20:
            slow.append((label, result["slowest_sql"]))
    for label, sql in slow if args.explain else []:
        print(f"\n{label}: {sql}\n{explain(sql)}")
    print("\n| not run by the admin any more | ms |\n|---|---|")
    for label, ms in avoided(data):
        print(f"| {label} | {ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
