"""The broker's Redis, read and written by the metrics: queue lengths and task outcome counters.

Workers run on other hosts than the web processes, so what they count goes to the one place both
reach: a hash in the broker's Redis, incremented by each worker and read at scrape time.
"""

import os

import redis
from kombu.transport.redis import PRIORITY_STEPS, Channel

from portal.celery import ALL_QUEUES
from portal.celery import app as celery_app

TASK_OUTCOMES_KEY = "portal:metrics:task_outcomes"
FIELD_SEPARATOR = "|"
REDIS_TIMEOUT_SECONDS = 2.0

_clients: dict[tuple[int, str], redis.Redis] = {}


def redis_url(broker_url: str) -> str:
    """A redis-py URL for a Celery broker URL (the embedded broker's socket form included)."""
    if not broker_url.startswith("redis+socket://"):
        return broker_url
    return broker_url.replace("redis+socket://", "unix://").replace("virtual_host=", "db=")


def client() -> redis.Redis:
    """This process's client of the broker's Redis (a forked child makes its own)."""
    url = redis_url(celery_app.conf.broker_url)
    key = (os.getpid(), url)
    if key not in _clients:
        _clients[key] = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
    return _clients[key]


def queue_keys(queue: str) -> list[str]:
    """The Redis lists holding a queue's waiting messages, one per kombu priority step."""
    return [f"{queue}{Channel.sep}{step}" if step else queue for step in PRIORITY_STEPS]


def count_task_outcome(task: str, outcome: str) -> None:
    """Add one to the outcome counter of ``task``."""
    client().hincrby(TASK_OUTCOMES_KEY, f"{task}{FIELD_SEPARATOR}{outcome}", 1)


def read() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Waiting messages per queue and task outcome counts, in one round trip."""
    pipeline = client().pipeline(transaction=False)
    for queue in ALL_QUEUES:
        for key in queue_keys(queue):
            pipeline.llen(key)
    pipeline.hgetall(TASK_OUTCOMES_KEY)
    *lengths, outcomes = pipeline.execute()
    steps = len(PRIORITY_STEPS)
    depths = {
        queue: sum(lengths[index * steps : (index + 1) * steps])
        for index, queue in enumerate(ALL_QUEUES)
    }
    counts = {}
    for field, value in outcomes.items():
        task, _, outcome = field.decode().rpartition(FIELD_SEPARATOR)
        counts[(task, outcome)] = int(value)
    return depths, counts
