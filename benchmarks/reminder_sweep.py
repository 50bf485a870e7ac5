"""Reminder sweep over 1,000,000 SIMs: wall time and peak memory (not part of the test run).

    DJANGO_SETTINGS_MODULE=portal.settings PORTAL_VAR_DIR=/tmp/bench \\
        .venv/bin/python benchmarks/reminder_sweep.py [--sims 1000000] [--tracemalloc]
    .venv/bin/python scripts/with_services.py -- .venv/bin/python benchmarks/reminder_sweep.py

Builds a fresh database (SQLite file under /tmp/bench unless DATABASE_URL is set, e.g. the
PostgreSQL the services harness starts), with ~1.8 % of the SIMs due for a reminder; the SIMs are
written with ``COPY`` on PostgreSQL and one ``executemany`` per batch on SQLite. Then a fresh
process runs ``orders.notifications.reminders.send_reminders`` once (and once more, when nothing
is due) and prints the wall time and the process's peak RSS (``getrusage``), which covers only
the sweep because the data was built in another process. ``--tracemalloc`` also reports the peak
of Python allocations (it slows the sweep about 2x, so the wall time is then an upper bound).
Email goes to the locmem backend (every message is kept in memory), SMS to the console outbox,
webhook deliveries are recorded but not sent. Targets: < 30 s, < 300 MB.
"""

import argparse
import logging
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

# The repository, not benchmarks/, first on the import path (the script imports benchmarks.*).
sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", "/tmp/bench")
DEFAULT_DB = Path(os.environ["PORTAL_VAR_DIR"]) / "reminder_bench.sqlite3"

BATCH = 10_000
CUSTOMERS = 20_000
PARTNERS = 20
SIM_COLUMNS = [
    *("id", "iccid", "operator_id", "owner_id", "partner_id", "status"),
    *("data_total_mb", "data_remaining_mb", "expires_at", "created_at", "updated_at"),
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument(
        "--reuse", action="store_true", help="sweep the database built last time, reminders reset"
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the first sweep")
    parser.add_argument("--explain", action="store_true", help="print each selection's plan")
    parser.add_argument("--sweep-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


ARGS = parse_args()
if "DATABASE_URL" not in os.environ:
    if not (ARGS.sweep_only or ARGS.reuse):
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEFAULT_DB}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{DEFAULT_DB}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import CustomerProfile, Partner, User  # noqa: E402
from core.validators import luhn_check_digit  # noqa: E402
from orders import tasks  # noqa: E402
from orders.models import Sim, WebhookEndpoint  # noqa: E402
from orders.notifications import reminders  # noqa: E402
from plans.models import Operator  # noqa: E402


def sim_fields(i: int, now) -> tuple:
    """(status, total, remaining, expires_at): 18 in 1000 due, 2 in 1000 due but replaced."""
    slot, day = i % 1000, timedelta(days=1)
    active, total = Sim.Status.ACTIVE, 10240
    if slot < 5:
        return active, total, 6000, now + 2 * day
    if slot < 10:
        return active, total, 6000, now + day / 2
    if slot < 13:
        return active, total, 6000, now - day / 2
    if slot < 16:
        return active, total, 1500, now + 10 * day
    if slot < 18:
        return active, total, 0, now + 10 * day
    if slot < 20:
        return Sim.Status.REPLACED, total, 0, now + 2 * day
    if slot < 120:
        return Sim.Status.EXPIRED, total, 6000, now - 30 * day
    return active, total, 6000, now + timedelta(days=4 + i % 56, minutes=i % 1440)


def sim_rows(count: int, operator: int, user_ids: list[int], partner_ids: list[int]):
    now = timezone.now()
    for i in range(count):
        partial = f"8992{i:014d}"
        owner, partner = (
            (None, partner_ids[i // 10 % PARTNERS])
            if i % 10 == 7
            else (user_ids[i % CUSTOMERS], None)
        )
        yield (
            i + 1,
            partial + luhn_check_digit(partial),
            operator,
            owner,
            partner,
            *sim_fields(i, now),
            now,
            now,
        )


def write_sims(rows) -> None:
    """COPY on PostgreSQL (no FK triggers), batched ``executemany`` elsewhere."""
    if connection.vendor == "postgresql":
        from benchmarks.admin_scale_data import copy_rows

        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            copy_rows(Sim, SIM_COLUMNS, rows)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
        return
    fields = [f for f in Sim._meta.concrete_fields if f.attname not in SIM_COLUMNS]
    defaults = tuple(f.get_default() for f in fields)
    columns = [*SIM_COLUMNS, *(f.column for f in fields)]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        Sim._meta.db_table, ", ".join(columns), ", ".join(["%s"] * len(columns))
    )
    adapt, batch = connection.ops.adapt_datetimefield_value, []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append((*row[:-3], *map(adapt, row[-3:]), *defaults))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def build(count: int) -> None:
    operator = Operator.objects.create(code="jazz", name="Jazz")
    users = User.objects.bulk_create(
        (
            User(email=f"c{n}@bench.example", password="!", phone=f"+92300{n:07d}")
            for n in range(CUSTOMERS)
        ),
        batch_size=BATCH,
    )
    CustomerProfile.objects.bulk_create(
        (
            CustomerProfile(
                user=user,
                preferred_language="zh-hans" if n % 3 else "en",
                notify_by_email=n % 10 != 0,
                notify_by_sms=n % 10 == 1,
            )
            for n, user in enumerate(users)
        ),
        batch_size=BATCH,
    )
    partners = Partner.objects.bulk_create(
        Partner(name=f"P{n}", slug=f"p{n}", contact_email=f"p{n}@bench.example", currency="PKR")
        for n in range(PARTNERS)
    )
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(partner=partner, url="https://hooks.bench.example/in")
        for partner in partners[::2]
    )
    user_ids, partner_ids = [u.pk for u in users], [p.pk for p in partners]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # a throwaway file: no fsync while loading
    write_sims(sim_rows(count, operator.pk, user_ids, partner_ids))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT setval('orders_sim_id_seq', {count + 1})")
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def max_rss_mib() -> float:
    """This process's peak RSS. ``getrusage``'s ``ru_maxrss`` would include the parent's peak
    (Linux carries it over ``fork`` and ``exec``); ``VmHWM`` starts afresh at ``exec``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (same machine), 0 elsewhere."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sweep(trace: bool, profile: str | None) -> None:
    """Run the sweep twice in this (fresh) process and print the figures."""
    import cProfile
    import tracemalloc

    from django.core import mail

    from accounts import sms

    logging.getLogger("accounts.sms").setLevel(logging.WARNING)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "console"
    mail.outbox = []
    tasks.deliver_webhook.delay_on_commit = lambda *a, **k: None  # record, do not send
    rss_before = max_rss_mib()
    if trace:
        tracemalloc.start()
    profiler = cProfile.Profile() if profile else None
    server_started = server_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    created = reminders.send_reminders()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server = server_cpu() - server_started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rss_after = max_rss_mib()
    started = time.perf_counter()
    again = reminders.send_reminders()
    idle = time.perf_counter() - started
    from orders.models import WebhookDelivery

    print(f"reminders created: {sum(created.values()):,} {created}")
    print(f"emails: {len(mail.outbox):,}  sms: {len(sms.outbox):,}", end="  ")
    print(f"webhook deliveries: {WebhookDelivery.objects.count():,}")
    print(f"sweep wall time: {elapsed:.1f} s" + (" (tracemalloc on)" if trace else ""), end="")
    print(f"; CPU time: this process {cpu:.1f} s, the PostgreSQL backend {server:.1f} s")
    if trace:
        print(f"sweep peak Python allocations (tracemalloc): {peak / 2**20:.1f} MiB")
    print(f"sweep process max RSS: {rss_before:.0f} MiB before the sweep, {rss_after:.0f} after")
    print(f"second sweep (nothing due): {idle:.2f} s, created {sum(again.values())}")
    if ARGS.explain:
        for kind in reminders.SWEPT_KINDS:
            query = reminders.due_sims(kind, timezone.now()).values(*reminders.SIM_FIELDS)
            page = query[: reminders.BATCH_SIZE]
            print(f"{kind}:\n{page.explain(analyze=connection.vendor == 'postgresql')}")


def main() -> None:
    if ARGS.sweep_only:
        sweep(ARGS.tracemalloc, ARGS.profile)
        return
    if ARGS.reuse:
        from orders.models import Notification, WebhookDelivery

        Notification.objects.all().delete()
        WebhookDelivery.objects.all().delete()
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build(ARGS.sims)
        print(f"built {Sim.objects.count():,} SIMs in {time.perf_counter() - started:.1f} s")
    database = settings.DATABASES["default"]
    print(f"database: {database['ENGINE']} {database['NAME']}")
    connection.close()
    command = [sys.executable, __file__, "--sweep-only"] + ["--explain"] * ARGS.explain
    command += ["--tracemalloc"] * ARGS.tracemalloc + ["--profile", ARGS.profile] * bool(
        ARGS.profile
    )
    subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
