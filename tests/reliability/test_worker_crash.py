"""A real worker process killed with SIGKILL in the middle of provisioning loses nothing."""

import signal

import pytest

from accounts.models import Partner
from orders import tasks
from orders.models import Order, ProvisioningAttempt, Sim
from orders.services.placing import place_purchase
from plans.models import Plan, Provider, SandboxOrder
from tests.processes import kill_group, start_worker, wait_until
from tests.worlds import build_world

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"PROVISIONING_LEASE_SECONDS": "3", "RECONCILE_AFTER_SECONDS": "1"}


def test_order_is_fulfilled_once_after_its_worker_is_killed(real_broker, tmp_path):
    build_world()
    Provider.objects.update(settings={"latency_seconds": 5})
    real_broker.control.purge()
    plan = Plan.objects.filter(kind="esim", operator__code="zong").first()
    order = place_purchase(plan=plan, partner=Partner.objects.get())

    first = start_worker(tmp_path, **WORKER_ENV)
    try:
        wait_until(
            lambda: order.provisioning_attempts.filter(
                outcome=ProvisioningAttempt.Outcome.IN_PROGRESS
            ).exists(),
            90,
            "the first worker to start provisioning",
        )
    finally:
        kill_group(first, signal.SIGKILL)
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING

    second = start_worker(tmp_path, **WORKER_ENV)
    try:
        wait_until(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
            120,
            "the reconciler and the second worker to finish the order",
            every=2,
            action=lambda: tasks.reconcile_orders.delay(),
        )
    finally:
        kill_group(second, signal.SIGTERM)

    assert SandboxOrder.objects.count() == 1
    assert Sim.objects.filter(issued_by_order=order).count() == 1
    outcomes = list(order.provisioning_attempts.values_list("outcome", flat=True))
    assert outcomes[0] == ProvisioningAttempt.Outcome.TRANSIENT_ERROR
    assert outcomes[-1] == ProvisioningAttempt.Outcome.SUCCEEDED
