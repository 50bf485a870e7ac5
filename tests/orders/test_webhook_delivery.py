"""Outgoing webhook deliveries: the retry schedule, 410, running twice, concurrent pick-ups."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from orders import tasks
from orders.models.partner_webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orders.partner_webhooks import delivery as webhook_delivery
from orders.partner_webhooks import services as webhooks
from tests.factories import OrderFactory, PartnerFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
URL = "https://hooks.partner.example/paksim"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# docs/partner-webhooks.md: when each try happens, counted from the event.
DOCUMENTED_TRIES = [
    timedelta(0),
    timedelta(minutes=1),
    timedelta(minutes=6),
    timedelta(minutes=36),
    timedelta(hours=2, minutes=36),
    timedelta(hours=7, minutes=36),
    timedelta(hours=17, minutes=36),
    timedelta(hours=27, minutes=36),
    timedelta(hours=39, minutes=36),
    timedelta(hours=53, minutes=36),
    timedelta(hours=71, minutes=36),
]


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Emit one event to ``endpoint`` and run what is queued after commit; returns the delivery."""

    def _send(endpoint, event_type="sim.low_data", data=None):
        with django_capture_on_commit_callbacks(execute=True):
            (delivery,) = webhooks.emit(
                partner=endpoint.partner, event_type=event_type, data=data or {"sim": "8992"}
            )
        delivery.refresh_from_db()
        return delivery

    return _send


@pytest.fixture
def run_due(django_capture_on_commit_callbacks):
    def _run():
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.send_due_webhooks()

    return _run


def test_failing_delivery_is_retried_at_the_documented_times_then_abandoned(
    http, endpoint, send, run_due
):
    http.post(URL, status=500, body="upstream trouble")
    with time_machine.travel(START, tick=False) as clock:
        delivery = send(endpoint)
        assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
        assert delivery.last_status_code == 500 and "upstream trouble" in delivery.last_error
        for expected in DOCUMENTED_TRIES[1:]:
            clock.move_to(START + expected - timedelta(seconds=10))
            run_due()
            assert len(http.calls) == DOCUMENTED_TRIES.index(expected)  # not early
            clock.move_to(START + expected)
            run_due()
            assert len(http.calls) == DOCUMENTED_TRIES.index(expected) + 1
        clock.move_to(START + timedelta(days=5))
        run_due()

    delivery.refresh_from_db()
    assert len(http.calls) == len(DOCUMENTED_TRIES) == delivery.attempts
    assert (delivery.status, delivery.next_attempt_at) == (Status.ABANDONED, None)
    tries = [a.started_at - START for a in delivery.attempt_log.order_by("number")]
    assert tries == DOCUMENTED_TRIES
    assert timedelta(days=2.9) < tries[-1] < timedelta(days=3.1)
    assert {a.outcome for a in delivery.attempt_log.all()} == {WebhookAttempt.Outcome.FAILED}


def test_timeouts_and_connection_errors_are_retried(http, endpoint, send):
    http.post(URL, body=requests.Timeout("slow"))
    delivery = send(endpoint)
    assert delivery.status == Status.FAILED and "No answer within 10 s" in delivery.last_error
    assert delivery.last_status_code is None and delivery.next_attempt_at


def test_success_is_recorded_with_status_code_and_duration(http, endpoint, send):
    http.post(URL, status=204)
    delivery = send(endpoint)
    assert (delivery.status, delivery.last_status_code, delivery.attempts) == (
        Status.SUCCEEDED,
        204,
        1,
    )
    assert delivery.delivered_at and delivery.next_attempt_at is None
    attempt = delivery.attempt_log.get()
    assert attempt.duration_ms is not None and attempt.finished_at and attempt.url == URL


def test_410_disables_the_endpoint_and_abandons(http, endpoint, send):
    http.post(URL, status=410)
    delivery = send(endpoint)
    endpoint.refresh_from_db()
    assert delivery.status == Status.ABANDONED and delivery.next_attempt_at is None
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    assert webhooks.emit(partner=endpoint.partner, event_type="sim.expiring", data={}) == []


def test_a_redirect_is_a_failure_not_followed(http, endpoint, send):
    http.post(URL, status=301, headers={"Location": "https://elsewhere.example/"})
    delivery = send(endpoint)
    assert delivery.status == Status.FAILED and len(http.calls) == 1


def test_a_succeeded_delivery_is_not_sent_again(http, endpoint, send):
    http.post(URL, status=200)
    delivery = send(endpoint)
    assert webhook_delivery.deliver(delivery.pk) == Status.SUCCEEDED
    assert tasks.deliver_webhook(delivery.pk) == Status.SUCCEEDED
    assert len(http.calls) == 1 and delivery.attempt_log.count() == 1


def test_a_delivery_being_sent_is_skipped_until_its_lease_ends(http, endpoint, send):
    http.post(URL, status=200)
    with time_machine.travel(START, tick=False) as clock:
        delivery = WebhookDelivery.objects.create(
            partner=endpoint.partner,
            endpoint=endpoint,
            url=URL,
            event_id="7f1c6a3e-3f39-4a8a-9a54-1c2b2f0c9d11",
            event_type="sim.low_data",
            payload={},
            next_attempt_at=START,
            attempts=1,
        )
        WebhookAttempt.objects.create(delivery=delivery, number=1, url=URL, started_at=START)
        assert webhook_delivery.deliver(delivery.pk) == Status.PENDING  # another worker has it
        assert not http.calls
        clock.move_to(START + webhook_delivery.SEND_LEASE + timedelta(seconds=1))
        assert webhook_delivery.deliver(delivery.pk) == Status.SUCCEEDED  # that worker was lost
    outcomes = list(delivery.attempt_log.order_by("number").values_list("outcome", "number"))
    assert outcomes == [("failed", 1), ("succeeded", 2)] and len(http.calls) == 1


def test_a_delivery_claimed_by_one_run_is_skipped_by_another(
    http, endpoint, django_capture_on_commit_callbacks
):
    http.post(URL, status=200)
    deliveries = webhooks.emit(partner=endpoint.partner, event_type="sim.low_data", data={})
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first, second = tasks.send_due_webhooks(), tasks.send_due_webhooks()
    assert (first, second, len(queued)) == (1, 0, 1)
    for callback in queued:
        callback()
    assert len(http.calls) == 1
    assert WebhookDelivery.objects.get(pk=deliveries[0].pk).status == Status.SUCCEEDED


def test_plain_http_order_url_is_refused_in_production(
    http, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = False
    partner = PartnerFactory()
    order = OrderFactory(customer=None, partner=partner, webhook_url="http://shop.example/hook")
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit(
            partner=partner, event_type="order.failed", data={}, order=order
        )
    delivery.refresh_from_db()
    assert delivery.endpoint is None and delivery.status == Status.ABANDONED
    assert "https" in delivery.last_error and not http.calls


def test_redeliver_makes_a_new_attempt_now(
    http, endpoint, send, django_capture_on_commit_callbacks
):
    http.post(URL, status=200)
    delivery = send(endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.redeliver(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2 and len(http.calls) == 2


def test_subscriptions_and_inactive_endpoints(endpoint):
    partner = endpoint.partner
    WebhookEndpoint.objects.create(partner=partner, url=URL + "/orders", events=["order.failed"])
    WebhookEndpoint.objects.create(partner=partner, url=URL + "/off", is_active=False)
    WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL + "/other")

    sent = webhooks.emit(partner=partner, event_type="sim.expiring", data={"sim": "1"})
    assert [d.url for d in sent] == [URL]
    sent = webhooks.emit(partner=partner, event_type="order.failed", data={})
    assert sorted(d.url for d in sent) == [URL, URL + "/orders"]
    assert len({d.event_id for d in sent}) == 1
    with pytest.raises(ValueError):
        webhooks.emit(partner=partner, event_type="order.exploded", data={})


def test_batched_events_read_endpoints_once_and_write_the_rows_together(
    endpoint, django_assert_num_queries, django_capture_on_commit_callbacks
):
    partner = endpoint.partner
    with django_capture_on_commit_callbacks() as queued:
        # The endpoints once, the check that nothing is written yet, one INSERT at the end.
        with django_assert_num_queries(3), webhooks.batched_events():
            for n in range(5):
                webhooks.emit(partner=partner, event_type="sim.expiring", data={"sim": str(n)})
            assert not WebhookDelivery.objects.exists()
        with pytest.raises(RuntimeError), webhooks.batched_events():
            webhooks.emit(partner=partner, event_type="sim.low_data", data={"sim": "9"})
            raise RuntimeError("the sweep stopped")
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [d.payload["data"]["sim"] for d in deliveries] == ["0", "1", "2", "3", "4", "9"]
    assert len({d.event_id for d in deliveries}) == 6 and len(queued) == 6


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_delivery_once():
    """PostgreSQL: a run holding rows makes the other skip them (``skip_locked``)."""
    assert connection.vendor == "postgresql"
    endpoint = WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)
    due = timezone.now()
    WebhookDelivery.objects.bulk_create(  # as if their tasks had been lost
        WebhookDelivery(
            partner=endpoint.partner,
            endpoint=endpoint,
            url=URL,
            event_id=uuid.uuid4(),
            event_type="sim.low_data",
            payload={"data": {"n": n}},
            next_attempt_at=due,
        )
        for n in range(20)
    )
    holding, done, counts = threading.Event(), threading.Event(), {}

    def first_run():
        with transaction.atomic():
            counts["first"] = webhook_delivery.dispatch_due()
            holding.set()
            done.wait(10)
        connection.close()

    def second_run():
        holding.wait(10)
        counts["second"] = webhook_delivery.dispatch_due()
        done.set()
        connection.close()

    with responses.RequestsMock() as http:
        http.post(URL, status=200)
        threads = [threading.Thread(target=first_run), threading.Thread(target=second_run)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert counts == {"first": 20, "second": 0}
        assert len(http.calls) == 20
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}
