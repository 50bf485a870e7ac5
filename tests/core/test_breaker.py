"""While the cache or the broker does not answer, one call waits for its timeout and the others
fail at once (``core.breaker``), until a probe finds the service back."""

import pytest
from celery import Celery
from django.db import transaction

from core.breaker import CircuitBreaker, breaker_for
from core.cache import CACHE_ERRORS, CacheUnavailable
from portal.celery import Task, app
from tests.stalled import TIMEOUT_SECONDS, StalledServer

COOLDOWN = 10.0


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_failure_opens_the_breaker_until_a_probe_succeeds():
    clock = Clock()
    breaker = CircuitBreaker("the cache", cooldown=COOLDOWN, clock=clock)
    assert breaker.allows()
    breaker.failed()
    assert not breaker.allows()
    clock.now += COOLDOWN - 0.1
    assert not breaker.allows()
    clock.now += 0.1
    assert breaker.allows()  # the probe
    assert not breaker.allows()  # the others wait for it
    breaker.failed()  # the probe failed: another cooldown
    clock.now += COOLDOWN - 0.1
    assert not breaker.allows()
    clock.now += 0.1
    assert breaker.allows()
    breaker.succeeded()
    assert breaker.allows() and breaker.allows()


@pytest.fixture
def stalled():
    server = StalledServer()
    yield server
    server.close()


def test_a_cache_that_does_not_answer_is_waited_for_once(settings, stalled):
    cache = stalled.as_cache(settings)
    with pytest.raises(CACHE_ERRORS):
        cache.get("catalog")
    for _ in range(5):
        with pytest.raises(CacheUnavailable):
            cache.get("catalog")
        with pytest.raises(CacheUnavailable):
            cache.set_many({"a": 1, "b": 2})
    assert len(stalled.received) == 1


@pytest.mark.django_db
def test_sends_to_a_broker_that_does_not_answer_are_tried_once(
    stalled, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    """The first send waits for the broker's timeout and is logged; the next ones are not tried
    (the dispatcher sends the work once the broker answers); the requests stand. An app of the
    portal's task base and send settings, on the stalled broker (Celery prefers the environment's
    broker URL, which tests on several workers set, to the app's own)."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    timeouts = {"socket_timeout": TIMEOUT_SECONDS, "socket_connect_timeout": TIMEOUT_SECONDS}
    stalled_app = Celery("stalled", task_cls=Task, broker=stalled.url, set_as_current=False)
    stalled_app.conf.update(
        task_ignore_result=True,
        task_publish_retry_policy=app.conf.task_publish_retry_policy,
        broker_transport_options=timeouts,
    )

    @stalled_app.task(name="provision")
    def provision(order):
        return order

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        provision.delay_on_commit(41)
    assert not breaker_for("the broker").allows()  # opened by the failed send
    assert "provision not sent: the broker does not answer" in caplog.text
    reached = len(stalled.received)
    assert reached
    for order in (42, 43):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            provision.delay_on_commit(order)
    assert len(stalled.received) == reached
