"""Each task's outcome in a worker, counted in the broker's Redis for ``/metrics`` to read.

Connected from ``portal/celery.py``, so every worker process counts. Tasks run eagerly (in the
web process, in tests) are not counted: they are not worker outcomes. Counting never fails a task.
"""

import logging

from celery.signals import task_failure, task_rejected, task_retry, task_revoked, task_success

from portal.metrics import broker

logger = logging.getLogger(__name__)

SUCCEEDED, FAILED, RETRIED, REJECTED, REVOKED = (
    "succeeded",
    "failed",
    "retried",
    "rejected",
    "revoked",
)
OUTCOMES = (SUCCEEDED, FAILED, RETRIED, REJECTED, REVOKED)


def record(task_name: str, outcome: str) -> None:
    """Count one outcome of ``task_name``; a Redis error is logged, never raised."""
    try:
        broker.count_task_outcome(task_name, outcome)
    except Exception as exc:
        logger.warning("Task outcome of %s not counted: %r", task_name, exc)


def _record_for_task(task, outcome: str) -> None:
    if task is None or getattr(task.request, "is_eager", False):
        return
    record(task.name, outcome)


@task_success.connect
def _succeeded(sender=None, **kwargs):
    _record_for_task(sender, SUCCEEDED)


@task_failure.connect
def _failed(sender=None, **kwargs):
    _record_for_task(sender, FAILED)


@task_retry.connect
def _retried(sender=None, **kwargs):
    _record_for_task(sender, RETRIED)


@task_revoked.connect
def _revoked(sender=None, request=None, **kwargs):
    if sender is not None:
        record(sender.name, REVOKED)


@task_rejected.connect
def _rejected(sender=None, message=None, **kwargs):
    headers = getattr(message, "headers", None) or {}
    record(headers.get("task", "unknown"), REJECTED)
