"""A worker keeps its database connection between tasks (under ``CONN_MAX_AGE``), and writes
no result for a task whose answer nobody reads (portal/task_connections.py, portal/celery.py)."""

import signal
import uuid

import pytest
from celery.app.trace import trace_task
from django.db import connection

from accounts.models import Partner
from orders import tasks
from orders.models import Order
from orders.services.placing import place_purchase
from plans.models import Plan
from portal.celery import app
from tests.processes import kill_group, start_worker, wait_until
from tests.worlds import build_world

pytestmark = pytest.mark.services  # PostgreSQL: SQLite keeps its in-memory test database open
ORDERS = 6


def run_as_worker(task, *args) -> None:
    """Run ``task`` through Celery's tracer as a worker process does (not eagerly)."""
    request = {"is_eager": False, "hostname": "test@localhost", "delivery_info": {}}
    trace_task(task, str(uuid.uuid4()), args, {}, request, app=app, eager=False)


def sessions() -> int:
    """Sessions opened on this database so far (the server's statistics, flushed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_task_keeps_the_connection_within_its_max_age(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    run_as_worker(tasks.dispatch_due)
    kept = connection.connection
    run_as_worker(tasks.dispatch_due)

    assert kept is not None and connection.connection is kept


@pytest.mark.django_db(transaction=True)
def test_a_task_closes_the_connection_without_a_max_age(settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    run_as_worker(tasks.dispatch_due)

    assert connection.connection is None


@pytest.mark.slow
@pytest.mark.real_clock
@pytest.mark.django_db(transaction=True)
def test_a_worker_provisions_orders_on_one_connection_and_keeps_no_result(real_broker, tmp_path):
    build_world()
    plan = Plan.objects.filter(kind="esim", operator__code="zong").first()
    orders = [place_purchase(plan=plan, partner=Partner.objects.get()) for _ in range(ORDERS)]
    results = real_broker.backend.client
    kept_before = set(results.keys("celery-task-meta-*"))  # earlier tests' pings and failures
    opened = sessions()

    worker = start_worker(tmp_path, queues=("provisioning",), DATABASE_CONN_MAX_AGE="60")
    try:
        wait_until(
            lambda: (
                Order.objects.filter(
                    pk__in=[order.pk for order in orders], status=Order.Status.FULFILLED
                ).count()
                == ORDERS
            ),
            90,
            "the worker to fulfil the orders",
            every=0.5,
        )
    finally:
        kill_group(worker, signal.SIGTERM)

    # The worker's start (its checks) and its one process: never a session per task.
    assert sessions() - opened < ORDERS // 2
    assert set(results.keys("celery-task-meta-*")) == kept_before
