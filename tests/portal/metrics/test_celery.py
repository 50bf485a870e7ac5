"""Celery in /metrics: queue depth and task outcomes, read from the real Redis at each scrape."""

import signal
import types

import pytest
from celery.signals import task_failure, task_rejected, task_retry, task_revoked, task_success

from portal.celery import ALL_QUEUES
from portal.metrics import broker
from portal.tasks import ping
from tests.processes import kill_group, start_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db]

TASKS = "portal_celery_tasks_total"


@pytest.fixture
def empty_broker(real_broker):
    """No waiting message and no counted outcome in this test's Redis databases."""
    redis = broker.client()
    keys = [key for queue in ALL_QUEUES for key in broker.queue_keys(queue)]
    redis.delete(*keys, broker.TASK_OUTCOMES_KEY)
    yield real_broker
    redis.delete(*keys, broker.TASK_OUTCOMES_KEY)


def test_queue_depth_counts_the_messages_waiting_in_redis(empty_broker, scrape):
    for _ in range(3):
        ping.apply_async(queue="notifications")
    ping.apply_async(queue="notifications", priority=6)
    ping.apply_async(queue="payments")

    read = scrape()
    assert read("portal_celery_queue_length", queue="notifications") == 4
    assert read("portal_celery_queue_length", queue="payments") == 1
    assert read("portal_celery_queue_length", queue="provisioning") == 0
    assert read("portal_metrics_source_up", source="broker") == 1


def test_each_task_outcome_signal_is_counted_in_redis(empty_broker, scrape):
    request = types.SimpleNamespace(task=ping.name)
    task_success.send(sender=ping, result={})
    task_success.send(sender=ping, result={})
    task_failure.send(sender=ping, task_id="1", exception=ValueError())
    task_retry.send(sender=ping, request=request, reason="later")
    task_revoked.send(sender=ping, request=request, terminated=True, signum=15, expired=False)
    message = types.SimpleNamespace(headers={"task": "orders.tasks.provision_order"})
    task_rejected.send(sender=None, message=message, exc=None)

    read = scrape()
    assert read(TASKS, task="portal.ping", outcome="succeeded") == 2
    assert read(TASKS, task="portal.ping", outcome="failed") == 1
    assert read(TASKS, task="portal.ping", outcome="retried") == 1
    assert read(TASKS, task="portal.ping", outcome="revoked") == 1
    assert read(TASKS, task="orders.tasks.provision_order", outcome="rejected") == 1


def test_tasks_run_eagerly_are_not_worker_outcomes(empty_broker, scrape):
    empty_broker.conf.task_always_eager = True
    ping.delay()
    assert scrape()(TASKS, task="portal.ping", outcome="succeeded") is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_counts_what_it_ran(empty_broker, scrape, tmp_path):
    ping.delay()
    ping.delay()
    empty_broker.send_task("portal.ping", args=["unexpected"])
    worker = start_worker(tmp_path, queues=("periodic",))
    try:
        wait_until(
            lambda: (
                scrape()(TASKS, task="portal.ping", outcome="failed") == 1
                and scrape()(TASKS, task="portal.ping", outcome="succeeded") == 2
            ),
            60,
            "the worker to run three pings and count them",
        )
    finally:
        kill_group(worker, signal.SIGTERM)
    assert scrape()("portal_celery_queue_length", queue="periodic") == 0
