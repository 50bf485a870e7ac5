"""A worker keeps its database connections between tasks, as a web process keeps them between
requests.

Celery's Django fixup closes every connection before and after each task unless
``CELERY_DB_REUSE_MAX`` is set: each task then opens a new PostgreSQL session (a server
process started, authenticated and its caches filled), which cost more CPU than the
provisioning task's own statements. Here the fixup's forced close is pushed out of reach, and
Django's own rule runs before and after each task instead (``close_old_connections``): a
connection older than ``CONN_MAX_AGE`` (0 in development: closed after every task), unusable
after an error, or left outside autocommit is closed; a kept one is health-checked on its first
use (``CONN_HEALTH_CHECKS``). Tasks run eagerly (in a request, in tests) leave connections alone.
"""

from celery import signals
from django.db import close_old_connections

# The fixup closes connections once every 2 × this many task signals (a prerun and a postrun per
# task): never within a worker process's life (``worker_max_tasks_per_child`` tasks).
FIXUP_REUSE_MAX = 1_000_000


def close_old(sender=None, **kwargs) -> None:
    """Close the connections Django would close at the end of a request."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


def connect(app) -> None:
    """Keep connections between ``app``'s tasks (portal/celery.py, once)."""
    app.conf["CELERY_DB_REUSE_MAX"] = FIXUP_REUSE_MAX  # the name the fixup reads
    for signal in (signals.task_prerun, signals.task_postrun):
        signal.connect(close_old, weak=False, dispatch_uid=f"portal.task_connections.{signal.name}")
