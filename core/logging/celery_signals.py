"""Celery's side of the request id: every task sent during a request (or a task) carries its id
in the message headers, and the worker sets it, the task id and the task name for the task's run.

A task sent with no request id (by beat, or from a shell) takes its own task id as request id, so
the tasks it sends in turn can be followed as well.
"""

import logging
import logging.config

from celery import signals

from core.logging.context import request_id_var, task_id_var, task_name_var

HEADER = "request_id"
_entered: dict[str, list] = {}


def send_request_id(headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None and not headers.get(HEADER):
        headers[HEADER] = request_id


def enter_task(task_id=None, task=None, **kwargs) -> None:
    request_id = task.request.get(HEADER) or request_id_var.get() or task_id
    _entered[task_id] = [
        (request_id_var, request_id_var.set(request_id)),
        (task_id_var, task_id_var.set(task_id)),
        (task_name_var, task_name_var.set(task.name)),
    ]


def leave_task(task_id=None, **kwargs) -> None:
    for variable, token in _entered.pop(task_id, []):
        variable.reset(token)


def configure_logging(loglevel=None, **kwargs) -> None:
    """Workers and beat log through ``settings.LOGGING`` (Celery adds no handler of its own)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


def connect() -> None:
    """Connect the receivers above (portal/celery.py, once)."""
    for signal, receiver in (
        (signals.before_task_publish, send_request_id),
        (signals.task_prerun, enter_task),
        (signals.task_postrun, leave_task),
        (signals.setup_logging, configure_logging),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"core.logging.{receiver.__name__}")
