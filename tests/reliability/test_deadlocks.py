"""Partners get no 500s under concurrency: many orders at once through real gunicorn processes
while a real worker provisions them, and a transaction that loses a deadlock is run again."""

import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Partner
from accounts.services import issue_api_key
from core.db import retry_on_deadlock
from orders.models import Order
from orders.services import provisioning, wallet
from orders.services.placing import place_purchase
from plans.models import Operator, Plan, SandboxOrder
from tests.processes import (
    ROOT,
    free_port,
    kill_group,
    service_env,
    start_worker,
    wait_until,
)
from tests.worlds import build_world

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ORDERS = 40


def start_gunicorn(tmp_path, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "portal.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "16"),
            *("--worker-class", "gthread", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=service_env(tmp_path),
        start_new_session=True,
    )
    wait_until(lambda: _answers(port), 60, f"gunicorn on port {port}")
    return process


def _answers(port: int) -> bool:
    """Whether gunicorn answers yet (while it imports the project it accepts, then stalls)."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/health/", timeout=10).status_code < 500
    except requests.RequestException:
        return False


def test_forty_concurrent_partner_orders_over_two_gunicorns_all_succeed(tmp_path, real_broker):
    build_world()
    real_broker.control.purge()
    partner = Partner.objects.get()
    key = issue_api_key(partner=partner, name="load").plaintext
    plan = Plan.objects.filter(kind="esim", operator__code="zong", is_active=True).first()
    ports = [free_port(), free_port()]
    servers = [start_gunicorn(tmp_path, port) for port in ports]
    workers = [start_worker(tmp_path), start_worker(tmp_path)]

    def place(index: int) -> int:
        response = requests.post(
            f"http://127.0.0.1:{ports[index % 2]}/api/v1/orders/",
            json={"plan": plan.pk},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=60,
        )
        return response.status_code

    try:
        with ThreadPoolExecutor(ORDERS) as pool:
            statuses = list(pool.map(place, range(ORDERS)))
        assert statuses == [201] * ORDERS
        wait_until(
            lambda: Order.objects.filter(status=Order.Status.FULFILLED).count() == ORDERS,
            180,
            "the worker to fulfil every order",
            every=1,
        )
    finally:
        for process in [*servers, *workers]:
            kill_group(process, signal.SIGTERM)
    assert SandboxOrder.objects.filter(operation="issue").count() == ORDERS


def test_a_transaction_that_loses_a_deadlock_is_run_again():
    build_world()
    first, second = Operator.objects.order_by("pk")[:2]
    barrier = threading.Barrier(2)
    errors, runs = [], []

    @retry_on_deadlock
    def lock_both(a, b):
        with transaction.atomic():
            runs.append(a.pk)
            Operator.objects.select_for_update().get(pk=a.pk)
            if len(runs) <= 2:
                barrier.wait(timeout=10)  # both hold their first row: the classic deadlock
                time.sleep(0.2)  # deliberate: both keep their first row before asking for the other
            Operator.objects.select_for_update().get(pk=b.pk)

    def run(a, b):
        try:
            lock_both(a, b)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(first, second)),
        threading.Thread(target=run, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(runs) == 3  # one of the two lost the deadlock and ran again


def test_locks_take_only_the_rows_they_change(django_capture_on_commit_callbacks):
    build_world()
    partner = Partner.objects.get()
    plan = Plan.objects.filter(kind="esim", operator__code="zong", is_active=True).first()
    with django_capture_on_commit_callbacks(execute=False):
        order = place_purchase(plan=plan, partner=partner)

    with CaptureQueriesContext(connection) as claim:
        provisioning._claim(order.pk)
    locking = [q["sql"] for q in claim.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locking and all('FOR UPDATE OF "orders_order"' in sql for sql in locking[:1])
    assert not any(
        "FOR UPDATE" in sql and "plans_plan" in sql.split("FOR UPDATE")[1] for sql in locking
    )

    with CaptureQueriesContext(connection) as wallet_lock, transaction.atomic():
        wallet.lock_partner(partner)
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in wallet_lock.captured_queries)
