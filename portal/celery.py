"""The Celery application.

Rules for every task (ARCHITECTURE.md): it takes ids, is safe to run twice, and is sent only after
the surrounding transaction commits (``task.delay_on_commit``).
"""

import functools
import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu import Exchange, Queue

from core.breaker import breaker_for
from core.logging import celery_signals
from portal import task_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# No task waits in the broker: a retry's time is a database column that a periodic dispatcher
# sends when due (ARCHITECTURE.md rule 8), so a broker outage loses no delayed work. An unacked
# message is handed to another worker after the visibility timeout: longer than any task may run
# (a task still running at the time limit is killed, and its message redelivered).
MAX_TASK_RUN_SECONDS = 60 * 60
VISIBILITY_TIMEOUT_SECONDS = 2 * MAX_TASK_RUN_SECONDS
# A task past its soft limit gets SoftTimeLimitExceeded (and may clean up); past the hard limit its
# worker process is killed. Short tasks set lower limits where they are declared.
SOFT_TIME_LIMIT_SECONDS = MAX_TASK_RUN_SECONDS - 5 * 60
BROKER_SOCKET_TIMEOUT_SECONDS = 5

# Work is split by kind so a backlog of one never delays another: each queue has its own workers in
# production (deploy/kubernetes, deploy/compose.yaml); a development worker consumes them all.
QUEUES = ("payments", "provisioning", "notifications", "webhooks", "periodic")
# Celery's own built-in tasks (and any task sent without a route) land here.
DEFAULT_QUEUE = "celery"
ALL_QUEUES = (*QUEUES, DEFAULT_QUEUE)
TASK_ROUTES = {
    "orders.tasks.process_webhook_event": "payments",
    "orders.tasks.send_refund": "payments",
    "orders.tasks.expire_payment": "payments",
    "orders.tasks.charge_mobile_account": "payments",
    "orders.tasks.provision_order": "provisioning",
    "orders.tasks.cancel_refunded_sims": "provisioning",
    "orders.tasks.cancel_replaced_profile": "provisioning",
    "orders.tasks.send_order_ready_email": "notifications",
    "orders.tasks.send_unsent_ready_emails": "periodic",
    "orders.tasks.send_replacement_email": "notifications",
    "support.tasks.notify_customer": "notifications",
    "support.tasks.notify_staff": "notifications",
    "support.tasks.send_unsent_emails": "periodic",
    "support.tasks.delete_orphan_screenshots": "periodic",
    "accounts.tasks.deliver_webhook": "webhooks",
    "orders.tasks.dispatch_due": "periodic",
    "orders.tasks.reconcile_orders": "periodic",
    "orders.tasks.reconcile_wallet_payments": "periodic",
    "orders.tasks.run_auto_renewals": "periodic",
    "orders.tasks.sync_usage": "periodic",
    "accounts.tasks.send_due_webhooks": "periodic",
    "accounts.tasks.send_reminders": "periodic",
    "accounts.tasks.purge_identity_documents": "periodic",
    "portal.purge_idempotency_records": "periodic",
    "portal.ping": "periodic",
}

# One beat at a time: RedBeat keeps the schedule in Redis and holds a lock there, so a second beat
# (a rolling upgrade, a stray process) waits for the lock instead of sending every job again. The
# holder renews the lock on every tick (at most BEAT_MAX_LOOP_SECONDS apart); if it dies, another
# beat takes over once the lock expires.
BEAT_MAX_LOOP_SECONDS = 5
BEAT_LOCK_TIMEOUT_SECONDS = 30

logger = logging.getLogger(__name__)


class Task(DjangoTask):
    """Every task's base. A send after commit that fails (the broker cut off or restarting:
    kombu then raises more than its OperationalError) is logged, not raised: what was committed
    stands, a request still answers, and the work whose next try is a database time (orders,
    payment events) is sent by the dispatcher. While the broker does not answer, sends are not
    even tried (``core.breaker``): one request waits for the broker's timeout, not every one.
    Run eagerly (tests), a task's errors propagate."""

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._send_logging_failure, *args, **kwargs))

    def delay_on_commit(self, *args, **kwargs) -> None:
        self.apply_async_on_commit(args, kwargs)

    def _send_logging_failure(self, *args, **kwargs) -> None:
        if self.app.conf.task_always_eager:
            self.apply_async(*args, **kwargs)
            return
        broker = breaker_for("the broker")
        if not broker.allows():
            logger.warning("%s not sent: the broker did not answer just now", self.name)
            return
        try:
            self.apply_async(*args, **kwargs)
        except Exception:
            broker.failed()
            logger.exception("%s not sent: the broker does not answer", self.name)
        else:
            broker.succeeded()


app = Celery("portal", task_cls=Task)
app.config_from_object("portal.celery_settings:config")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # Nobody reads a task's result or its started state (ids go in, state lives in the database):
    # no result written twice per task, no subscription to it on each send. A failure is still
    # stored. A task whose answer is read (the worker check's ping) keeps its result.
    task_ignore_result=True,
    task_store_errors_even_if_ignored=True,
    task_time_limit=MAX_TASK_RUN_SECONDS,
    task_soft_time_limit=SOFT_TIME_LIMIT_SECONDS,
    task_default_queue=DEFAULT_QUEUE,
    task_queues=[Queue(name, Exchange(name), routing_key=name) for name in ALL_QUEUES],
    task_routes={name: {"queue": queue} for name, queue in TASK_ROUTES.items()},
    beat_scheduler="redbeat.RedBeatScheduler",
    beat_max_loop_interval=BEAT_MAX_LOOP_SECONDS,
    redbeat_lock_timeout=BEAT_LOCK_TIMEOUT_SECONDS,
    redbeat_key_prefix="portal:redbeat:",
    redbeat_redis_options={"socket_timeout": 30},
    result_expires=60 * 60 * 24,
    broker_connection_retry_on_startup=True,
    # A broker cut off fails a send in seconds (then the dispatcher's turn), not in minutes:
    # one connection timeout and one retry, not kombu's default of three retries.
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_max": 0.5},
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
        "socket_timeout": BROKER_SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": BROKER_SOCKET_TIMEOUT_SECONDS,
    },
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
    timezone="Asia/Karachi",
    beat_schedule={
        "dispatch-due": {"task": "orders.tasks.dispatch_due", "schedule": 5.0},
        "reconcile-orders": {"task": "orders.tasks.reconcile_orders", "schedule": 120.0},
        "reconcile-wallet-payments": {
            "task": "orders.tasks.reconcile_wallet_payments",
            "schedule": 60.0,
        },
        "run-auto-renewals": {"task": "orders.tasks.run_auto_renewals", "schedule": 1800.0},
        "sync-usage": {"task": "orders.tasks.sync_usage", "schedule": 60.0},
        "purge-idempotency-records": {
            "task": "portal.purge_idempotency_records",
            "schedule": 86400.0,
        },
        "purge-identity-documents": {
            "task": "accounts.tasks.purge_identity_documents",
            "schedule": 86400.0,
        },
        "send-due-webhooks": {"task": "accounts.tasks.send_due_webhooks", "schedule": 10.0},
        "send-reminders": {"task": "accounts.tasks.send_reminders", "schedule": 900.0},
        "send-unsent-ready-emails": {
            "task": "orders.tasks.send_unsent_ready_emails",
            "schedule": 60.0,
        },
        "send-unsent-support-emails": {
            "task": "support.tasks.send_unsent_emails",
            "schedule": 60.0,
        },
        "delete-orphan-screenshots": {
            "task": "support.tasks.delete_orphan_screenshots",
            "schedule": 86400.0,
        },
    },
)
app.autodiscover_tasks()
# Request ids travel in task headers; workers and beat log through settings.LOGGING.
celery_signals.connect()
# Database connections kept between tasks, under Django's CONN_MAX_AGE (portal/task_connections.py).
task_connections.connect(app)

# Every task's outcome is counted in Redis for the web's /metrics (portal/metrics/task_signals.py).
from portal.metrics import task_signals  # noqa: E402, F401
