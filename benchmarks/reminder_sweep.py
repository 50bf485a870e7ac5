"""Reminder sweep over 1,000,000 SIMs: wall time and peak memory (not part of the test run).

    DJANGO_SETTINGS_MODULE=portal.settings PORTAL_VAR_DIR=/tmp/bench \\
        .venv/bin/python benchmarks/reminder_sweep.py [--sims 1000000]

Builds a fresh database (SQLite file under /tmp/bench unless DATABASE_URL is set), with ~1.8 %
of the SIMs due for a reminder, runs ``orders.notifications.reminders.send_reminders`` once (and
once more, when nothing is due), and prints the numbers. Email goes to the locmem backend, SMS to
the console outbox, webhook deliveries are recorded but not sent. Targets: < 60 s, < 500 MB.
"""

import argparse
import logging
import os
import resource
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("PORTAL_VAR_DIR", "/tmp/bench")
DEFAULT_DB = Path(os.environ["PORTAL_VAR_DIR"]) / "reminder_bench.sqlite3"
if "DATABASE_URL" not in os.environ:
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEFAULT_DB}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{DEFAULT_DB}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import CustomerProfile, Partner, User  # noqa: E402
from orders import tasks  # noqa: E402
from orders.models import Sim, WebhookEndpoint  # noqa: E402
from orders.notifications import reminders  # noqa: E402
from plans.models import Operator  # noqa: E402

BATCH = 10_000
CUSTOMERS = 20_000
PARTNERS = 20


def luhn_digit(partial: str) -> str:
    total = 0
    for i, char in enumerate(reversed(partial)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def sim_fields(i: int, now) -> dict:
    """A deterministic mix: 18 in 1000 due, 2 in 1000 due but replaced/cancelled."""
    slot, day = i % 1000, timedelta(days=1)
    fields = {"status": Sim.Status.ACTIVE, "data_total_mb": 10240, "data_remaining_mb": 6000}
    if slot < 5:
        fields["expires_at"] = now + 2 * day
    elif slot < 10:
        fields["expires_at"] = now + day / 2
    elif slot < 13:
        fields["expires_at"] = now - day / 2
    elif slot < 16:
        fields.update(expires_at=now + 10 * day, data_remaining_mb=1500)
    elif slot < 18:
        fields.update(expires_at=now + 10 * day, data_remaining_mb=0)
    elif slot < 20:
        fields.update(expires_at=now + 2 * day, status=Sim.Status.REPLACED, data_remaining_mb=0)
    elif slot < 120:
        fields.update(expires_at=now - 30 * day, status=Sim.Status.EXPIRED)
    else:
        fields["expires_at"] = now + timedelta(days=4 + i % 56, minutes=i % 1440)
    return fields


def build(count: int) -> None:
    now = timezone.now()
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
    for start in range(0, count, BATCH):
        sims = []
        for i in range(start, min(start + BATCH, count)):
            partial = f"8992{i:014d}"
            holder = (
                {"partner_id": partner_ids[i % PARTNERS]}
                if i % 10 == 7
                else {"owner_id": user_ids[i % CUSTOMERS]}
            )
            sims.append(
                Sim(
                    iccid=partial + luhn_digit(partial),
                    operator=operator,
                    **holder,
                    **sim_fields(i, now),
                )
            )
        Sim.objects.bulk_create(sims)


def main() -> None:
    logging.getLogger("accounts.sms").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sims", type=int, default=1_000_000)
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "console"
    tasks.deliver_webhook.delay_on_commit = lambda *a, **k: None  # record, do not send
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build(args.sims)
    database = settings.DATABASES["default"]
    print(f"database: {database['ENGINE']} {database['NAME']}")
    print(f"built {Sim.objects.count():,} SIMs in {time.perf_counter() - started:.1f} s")

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    created = reminders.send_reminders()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    again = reminders.send_reminders()
    idle = time.perf_counter() - started

    from django.core import mail

    from accounts import sms

    print(f"reminders created: {sum(created.values()):,} {created}")
    print(f"emails: {len(mail.outbox):,}  sms: {len(sms.outbox):,}")
    print(f"sweep wall time: {elapsed:.1f} s (with tracemalloc on)")
    print(f"sweep peak Python allocations (tracemalloc): {peak / 2**20:.1f} MiB")
    print(f"process max RSS: {rss_before:.0f} MiB before the sweep, {rss_after:.0f} MiB after")
    print(f"second sweep (nothing due): {idle:.1f} s, created {sum(again.values())}")


if __name__ == "__main__":
    main()
