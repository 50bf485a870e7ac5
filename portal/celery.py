"""The Celery application.

Rules for every task (ARCHITECTURE.md): it takes ids, is safe to run twice, and is sent only after
the surrounding transaction commits (``task.delay_on_commit``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# No task waits in the broker: a retry's time is a database column that a periodic dispatcher
# sends when due (ARCHITECTURE.md rule 8), so a broker outage loses no delayed work. An unacked
# message is handed to another worker after the visibility timeout: longer than any task may run
# (a task still running at the time limit is killed, and its message redelivered).
MAX_TASK_RUN_SECONDS = 60 * 60
VISIBILITY_TIMEOUT_SECONDS = 2 * MAX_TASK_RUN_SECONDS

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    task_time_limit=MAX_TASK_RUN_SECONDS,
    result_expires=60 * 60 * 24,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
    result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
    timezone="Asia/Karachi",
    beat_schedule={
        "dispatch-due": {"task": "orders.tasks.dispatch_due", "schedule": 5.0},
        "reconcile-orders": {"task": "orders.tasks.reconcile_orders", "schedule": 120.0},
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
    },
)
app.autodiscover_tasks()
