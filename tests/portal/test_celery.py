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


def test_the_django_celery_settings_are_celerys_read_once_as_a_plain_mapping(monkeypatch):
    """Every ``CELERY_*`` setting under Celery's name; a look-up Celery makes on each task sent
    (``task_send_sent_event`` is not set here) does not go through Django's settings object."""
    from django.conf import LazySettings, settings

    from portal.celery_settings import config

    names = [name for name in dir(settings) if name.startswith("CELERY_")]
    assert set(config) == {name.removeprefix("CELERY_").lower() for name in names}
    assert {"broker_url", "result_backend", "worker_max_tasks_per_child"} <= set(config)
    limit = settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD  # one the tests leave as it is
    assert config["worker_max_memory_per_child"] == app.conf.worker_max_memory_per_child == limit
    asked = []
    with monkeypatch.context() as patched:
        patched.setattr(LazySettings, "__getattr__", lambda self, name: asked.append(name))
        assert app.conf.task_send_sent_event is False and app.conf.task_repr_maxlevels
    assert asked == []


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
