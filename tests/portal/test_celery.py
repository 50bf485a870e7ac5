"""The Celery set-up, and a task's round trip through a real worker process over real Redis."""

import os
import subprocess
import sys

import pytest

from portal.celery import ALL_QUEUES, MAX_TASK_RUN_SECONDS, app
from portal.tasks import ping
from tests.processes import ROOT


def test_celery_is_configured_for_safe_delivery():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == MAX_TASK_RUN_SECONDS
    assert conf.broker_transport_options["visibility_timeout"] > MAX_TASK_RUN_SECONDS


def test_tasks_can_be_sent_after_commit(django_capture_on_commit_callbacks, db):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ping.delay_on_commit()
    assert len(callbacks) == 1


@pytest.mark.services
@pytest.mark.slow
def test_ping_round_trip_through_a_real_worker_process(real_broker, tmp_path):
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--concurrency=1",
            f"--queues={','.join(ALL_QUEUES)}",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env={**os.environ, "PORTAL_VAR_DIR": str(tmp_path)},
    )
    try:
        answer = ping.apply_async().get(timeout=60, disable_sync_subtasks=False)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert answer["pong"] is True
    assert answer["pid"] not in (os.getpid(), None)
    assert app.conf.broker_url.startswith("redis://127.0.0.1:")
