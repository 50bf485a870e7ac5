"""Sends after commit: a broker that does not answer is logged, never undoes a request."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from kombu.exceptions import OperationalError

from orders.tasks import provision_order
from portal.celery import Task, app

pytestmark = pytest.mark.django_db


def test_every_task_sends_after_commit_through_the_portal_base():
    assert all(isinstance(task, Task) for name, task in app.tasks.items() if "." in name)


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("Error 111 connecting to broker. Connection refused."),
        AttributeError("'NoneType' object has no attribute 'client'"),  # kombu, mid-reconnect
    ],
)
def test_a_failed_send_is_logged_and_the_transaction_stands(
    failure, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise failure

    monkeypatch.setattr(app.conf, "task_always_eager", False)
    monkeypatch.setattr(provision_order, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Group.objects.create(name="kept")
        provision_order.delay_on_commit(42)
    assert "orders.tasks.provision_order not sent: the broker does not answer" in caplog.text
    assert Group.objects.filter(name="kept").exists()


def test_a_task_run_eagerly_raises_its_errors(monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise ValueError("a bug in the task")

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(provision_order, "apply_async", broken)
    with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
        provision_order.delay_on_commit(42)


def test_the_task_gets_its_arguments(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(provision_order, "apply_async", lambda *a, **k: sent.append((a, k)))
    with django_capture_on_commit_callbacks(execute=True):
        provision_order.delay_on_commit(42, unit=2)
        provision_order.apply_async_on_commit((7,), countdown=0)
    assert sent == [(((42,), {"unit": 2}), {}), (((7,),), {"countdown": 0})]
