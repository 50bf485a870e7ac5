"""One beat, always: a second beat process started beside the first sends nothing while the
first runs (RedBeat's lock in Redis), and takes over when the first is gone."""

import json
import signal
import time

import pytest

from portal.celery import BEAT_LOCK_TIMEOUT_SECONDS, app
from tests.processes import kill_group, start_beat, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

SENT = "Scheduler: Sending due task"
DISPATCH_EVERY_SECONDS = 5  # portal/celery.py: dispatch-due


def periodic_messages(broker) -> list[str]:
    """Task names of the messages waiting in the periodic queue (no worker consumes it here)."""
    with broker.connection_for_write() as conn:
        raw = conn.default_channel.client.lrange("periodic", 0, -1)
    return [json.loads(message)["headers"]["task"] for message in raw]


def clear(broker) -> None:
    """Empty the periodic queue and forget RedBeat's schedule and lock."""
    with broker.connection_for_write() as conn:
        conn.default_channel.queue_purge("periodic")
        client = conn.default_channel.client
        for key in client.scan_iter(f"{app.conf.redbeat_key_prefix}*"):
            client.delete(key)


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_sends_nothing_until_the_first_is_gone(real_broker, tmp_path):
    clear(real_broker)
    logs = [tmp_path / "beat1.log", tmp_path / "beat2.log"]
    first = start_beat(tmp_path, logs[0])
    second = None
    try:
        wait_until(lambda: SENT in logs[0].read_text(), 60, "the first beat to send")
        second = start_beat(tmp_path, logs[1])
        wait_until(lambda: "beat: Starting" in logs[1].read_text(), 60, "the second beat")
        started = time.monotonic()
        sent_before = periodic_messages(real_broker).count("orders.tasks.dispatch_due")
        time.sleep(4 * DISPATCH_EVERY_SECONDS)
        sent = periodic_messages(real_broker).count("orders.tasks.dispatch_due") - sent_before
        elapsed = time.monotonic() - started

        assert SENT not in logs[1].read_text()
        assert sent <= elapsed / DISPATCH_EVERY_SECONDS + 1  # one beat's worth, not two

        kill_group(first, signal.SIGKILL)  # no clean release: the lock must expire
        wait_until(
            lambda: SENT in logs[1].read_text(),
            BEAT_LOCK_TIMEOUT_SECONDS + 30,
            "the second beat to take over",
        )
    finally:
        for process in (first, second):
            if process is not None:
                kill_group(process, signal.SIGTERM)
        clear(real_broker)
