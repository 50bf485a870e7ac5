"""The pipeline's ceiling: a no-op task on a Celery app with the portal's worker settings
(portal/celery.py), on the benchmark's Redis (databases 3 and 4, apart from the portal's)."""

import os

from celery import Celery

redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
app = Celery("ceiling", broker=f"{redis_url}/3", backend=f"{redis_url}/4")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_store_errors_even_if_ignored=True,
    worker_max_memory_per_child=int(os.environ.get("WORKER_MAX_MEMORY_PER_CHILD_MB", 512)) * 1024,
    worker_max_tasks_per_child=int(os.environ.get("WORKER_MAX_TASKS_PER_CHILD", 10_000)),
    broker_connection_retry_on_startup=True,
)


QUEUE = "celery"


@app.task
def noop(number: int) -> int:
    return number


def drained() -> bool:
    """Whether every no-op sent has run: none waits in the queue, none is unacknowledged (late
    acks: a message is acknowledged once its task has run). Results are ignored, as the
    portal's are, so they cannot tell."""
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0
