"""The business figures of /metrics, read from the database at each scrape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import IdentityCheck
from orders.models import Gateway, Order, Payment, ProvisioningAttempt, WebhookDelivery
from portal.metrics import broker, collector
from tests.factories import (
    IdentityCheckFactory,
    OrderFactory,
    PaymentFactory,
    ProviderFactory,
    ProvisioningAttemptFactory,
    WebhookDeliveryFactory,
)

pytestmark = pytest.mark.django_db

Outcome = ProvisioningAttempt.Outcome
DATABASE_QUERIES_PER_SCRAPE = 6


@pytest.fixture(autouse=True)
def _broker_answers(monkeypatch):
    """An empty broker (the real Redis is read in test_celery.py)."""
    monkeypatch.setattr(broker, "read", lambda: (dict.fromkeys(collector.ALL_QUEUES, 0), {}))


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def test_orders_by_status_lists_every_status(scrape):
    OrderFactory.create_batch(2, status=Order.Status.PAID)
    OrderFactory(status=Order.Status.NEEDS_ATTENTION)
    read = scrape()
    assert read("portal_orders", status="paid") == 2
    assert read("portal_orders", status="needs_attention") == 1
    assert read("portal_orders", status="fulfilled") == 0
    assert read("portal_orders", status="refunded") == 0


def test_time_from_paid_to_fulfilled_over_the_last_hour(scrape):
    for seconds in (10, 100, 1000):
        OrderFactory(
            status=Order.Status.FULFILLED,
            paid_at=ago(seconds=seconds + 30),
            fulfilled_at=ago(seconds=30),
        )
    OrderFactory(status=Order.Status.FULFILLED, paid_at=ago(hours=3), fulfilled_at=ago(hours=2))
    OrderFactory(status=Order.Status.PAID, paid_at=ago(seconds=40))

    read = scrape()
    name = "portal_order_paid_to_fulfilled_seconds"
    assert read(f"{name}_bucket", le="5.0") == 0
    assert read(f"{name}_bucket", le="15.0") == 1
    assert read(f"{name}_bucket", le="120.0") == 2
    assert read(f"{name}_bucket", le="1800.0") == 3
    assert read(f"{name}_bucket", le="+Inf") == 3
    assert read(f"{name}_gcount") == 3
    assert read(f"{name}_gsum") == pytest.approx(1110, abs=3)


def test_provider_errors_of_the_last_hour_by_provider_and_outcome(scrape):
    sandbox, airalo = ProviderFactory(name="Sandbox"), ProviderFactory(name="Airalo")
    for outcome, finished, provider in [
        (Outcome.TRANSIENT_ERROR, ago(minutes=5), sandbox),
        (Outcome.TRANSIENT_ERROR, ago(minutes=50), sandbox),
        (Outcome.PERMANENT_ERROR, ago(minutes=1), sandbox),
        (Outcome.TRANSIENT_ERROR, ago(hours=2), sandbox),
        (Outcome.SUCCEEDED, ago(minutes=1), sandbox),
        (Outcome.IN_PROGRESS, None, sandbox),
        (Outcome.PERMANENT_ERROR, ago(minutes=2), airalo),
    ]:
        ProvisioningAttemptFactory(outcome=outcome, finished_at=finished, provider=provider)

    read = scrape()
    name = "portal_provider_errors_last_hour"
    assert read(name, provider="Sandbox", outcome="transient_error") == 2
    assert read(name, provider="Sandbox", outcome="permanent_error") == 1
    assert read(name, provider="Airalo", outcome="permanent_error") == 1
    assert read(name, provider="Airalo", outcome="transient_error") is None


def test_partner_webhook_backlog_counts_deliveries_due(scrape):
    Status = WebhookDelivery.Status
    WebhookDeliveryFactory(status=Status.PENDING, next_attempt_at=ago(seconds=60))
    WebhookDeliveryFactory(status=Status.FAILED, next_attempt_at=ago(seconds=600))
    WebhookDeliveryFactory(status=Status.FAILED, next_attempt_at=ago(seconds=-600))  # not yet due
    WebhookDeliveryFactory(status=Status.SUCCEEDED, next_attempt_at=ago(hours=1))
    WebhookDeliveryFactory(status=Status.ABANDONED, next_attempt_at=ago(hours=1))

    read = scrape()
    assert read("portal_partner_webhooks_due") == 2
    assert read("portal_partner_webhooks_due_oldest_age_seconds") == pytest.approx(600, abs=5)


def test_identity_checks_and_manual_payments_waiting(scrape):
    waiting = IdentityCheckFactory.create_batch(2)
    IdentityCheck.objects.filter(pk=waiting[0].pk).update(created_at=ago(hours=1))
    IdentityCheckFactory(status=IdentityCheck.Status.APPROVED)
    manual = PaymentFactory(gateway=Gateway.MANUAL, status=Payment.Status.PENDING)
    Payment.objects.filter(pk=manual.pk).update(created_at=ago(minutes=30))
    PaymentFactory(gateway=Gateway.MANUAL, status=Payment.Status.SUCCEEDED)
    PaymentFactory(gateway=Gateway.TEST, status=Payment.Status.PENDING)

    read = scrape()
    assert read("portal_identity_checks_waiting") == 2
    assert read("portal_identity_checks_waiting_oldest_age_seconds") == pytest.approx(3600, abs=5)
    assert read("portal_payments_awaiting_confirmation") == 1
    assert read("portal_payments_awaiting_confirmation_oldest_age_seconds") == pytest.approx(
        1800, abs=5
    )


def test_nothing_waiting_reads_zero(scrape):
    read = scrape()
    assert read("portal_partner_webhooks_due") == 0
    assert read("portal_identity_checks_waiting_oldest_age_seconds") == 0
    assert read("portal_order_paid_to_fulfilled_seconds_gcount") == 0


def test_a_scrape_makes_a_fixed_number_of_queries(client, metrics_token, django_assert_num_queries):
    OrderFactory.create_batch(
        5, status=Order.Status.FULFILLED, paid_at=ago(minutes=3), fulfilled_at=ago(minutes=1)
    )
    ProvisioningAttemptFactory.create_batch(
        3, outcome=Outcome.TRANSIENT_ERROR, finished_at=ago(minutes=1)
    )
    WebhookDeliveryFactory.create_batch(3, next_attempt_at=ago(minutes=1))
    IdentityCheckFactory.create_batch(3)
    with django_assert_num_queries(DATABASE_QUERIES_PER_SCRAPE):
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
    assert response.status_code == 200


def test_a_source_that_fails_is_reported_and_the_others_still_answer(scrape, monkeypatch):
    def unreachable():
        raise ConnectionError("broker down")

    monkeypatch.setattr(broker, "read", unreachable)
    read = scrape()
    assert read("portal_metrics_source_up", source="broker") == 0
    assert read("portal_metrics_source_up", source="database") == 1
    assert read("portal_orders", status="paid") == 0
