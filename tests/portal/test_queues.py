"""Queues and limits: each kind of work has its own queue, so a backlog of one never delays
another, and every task has a soft and a hard time limit."""

import signal

import pytest

from accounts.models import Partner
from orders import tasks
from orders.models import Order
from orders.services.placing import place_purchase
from plans.models import Plan, Provider
from portal.celery import MAX_TASK_RUN_SECONDS, QUEUES, app
from tests.processes import kill_group, start_worker, wait_until
from tests.worlds import build_world

WEBHOOK_BACKLOG = 200


def our_tasks():
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_task_is_routed_to_one_of_the_named_queues():
    routes = {name: queue_of(name) for name in our_tasks()}

    assert set(routes.values()) <= set(QUEUES), routes
    assert set(routes.values()) == set(QUEUES)
    assert routes["orders.tasks.provision_order"] == "provisioning"
    assert routes["accounts.tasks.deliver_webhook"] == "webhooks"
    assert routes["orders.tasks.process_webhook_event"] == "payments"
    assert routes["orders.tasks.send_order_ready_email"] == "notifications"
    for entry in app.conf.beat_schedule.values():
        assert queue_of(entry["task"]) == "periodic", entry


def test_every_task_has_a_soft_limit_below_its_hard_limit():
    for name, task in our_tasks().items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert 0 < soft < hard <= MAX_TASK_RUN_SECONDS, name
    assert app.conf.worker_max_tasks_per_child


def queue_length(broker, queue: str) -> int:
    with broker.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)


def purge(broker) -> None:
    with broker.connection_for_write() as conn:
        for queue in (*QUEUES, app.conf.task_default_queue):
            conn.default_channel.queue_purge(queue)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_webhook_backlog_does_not_delay_provisioning(real_broker, tmp_path):
    build_world()
    purge(real_broker)
    for _ in range(WEBHOOK_BACKLOG):
        tasks.deliver_webhook.delay(0)
    plan = Plan.objects.filter(kind="esim", operator__code="zong").first()
    order = place_purchase(plan=plan, partner=Partner.objects.get())

    worker = start_worker(tmp_path, queues=("provisioning",))
    try:
        wait_until(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
            90,
            "the provisioning worker to fulfil the order",
            every=0.5,
        )
        assert queue_length(real_broker, "webhooks") == WEBHOOK_BACKLOG
    finally:
        kill_group(worker, signal.SIGTERM)
        purge(real_broker)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_task_past_its_soft_time_limit_is_stopped(real_broker, tmp_path):
    build_world()
    Provider.objects.update(settings={"latency_seconds": 20})
    plan = Plan.objects.filter(kind="esim", operator__code="zong").first()
    order = place_purchase(plan=plan, partner=Partner.objects.get())
    purge(real_broker)  # drop the message sent on payment: this test sends its own

    worker = start_worker(tmp_path)
    try:
        result = tasks.provision_order.apply_async(  # results are kept only when asked for
            (order.pk,), soft_time_limit=1, time_limit=15, ignore_result=False
        )
        result.get(timeout=60, propagate=False, disable_sync_subtasks=False)
    finally:
        kill_group(worker, signal.SIGTERM)
    assert result.state == "FAILURE"
    assert type(result.result).__name__ == "SoftTimeLimitExceeded"
