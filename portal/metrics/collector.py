"""Figures computed at each scrape: the business from the database, Celery from the broker's Redis.

Nothing is kept in process memory, so every web process (and every pod) answers the same. Each
database figure is one query on an index (the scrape's budget is a test); windowed figures cover
the last ``RECENT`` (one hour).
"""

import logging
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.utils import floatToGoString

from accounts.models import IdentityCheck
from orders.models import Gateway, Order, Payment, ProvisioningAttempt, WebhookDelivery
from portal.celery import ALL_QUEUES
from portal.metrics import broker

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=1)
PAID_TO_FULFILLED_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)
PROVIDER_ERRORS = (
    ProvisioningAttempt.Outcome.TRANSIENT_ERROR,
    ProvisioningAttempt.Outcome.PERMANENT_ERROR,
)
DELIVERY_WAITING = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED)


def age_seconds(now, oldest) -> float:
    """Seconds since ``oldest``; 0 when nothing waits."""
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def backlog(name: str, documentation: str, count: int, oldest_age: float):
    """A waiting-work figure: how many, and how long the oldest has waited."""
    yield GaugeMetricFamily(f"portal_{name}", documentation, value=count)
    yield GaugeMetricFamily(
        f"portal_{name}_oldest_age_seconds",
        f"{documentation} Age of the oldest (0 when none).",
        value=oldest_age,
    )


def orders_by_status():
    family = GaugeMetricFamily("portal_orders", "Orders in each status.", labels=["status"])
    counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("id")))
    for status in Order.Status.values:
        family.add_metric([status], counts.get(status, 0))
    yield family


def paid_to_fulfilled(now):
    rows = (
        Order.objects.order_by()
        .filter(
            status__in=[Order.Status.FULFILLED, Order.Status.REFUNDED],
            updated_at__gte=now - RECENT,
            fulfilled_at__gte=now - RECENT,
            paid_at__isnull=False,
        )
        .values_list("paid_at", "fulfilled_at")
    )
    durations = [max((fulfilled - paid).total_seconds(), 0.0) for paid, fulfilled in rows]
    buckets = [
        (floatToGoString(bound), sum(1 for seconds in durations if seconds <= bound))
        for bound in PAID_TO_FULFILLED_BUCKETS
    ]
    yield GaugeHistogramMetricFamily(
        "portal_order_paid_to_fulfilled_seconds",
        "Time from payment to fulfilment of the orders fulfilled in the last hour.",
        buckets=[*buckets, ("+Inf", len(durations))],
        gsum_value=sum(durations),
    )


def provider_errors(now):
    family = GaugeMetricFamily(
        "portal_provider_errors_last_hour",
        "Provisioning attempts that ended in an error in the last hour, by provider and outcome.",
        labels=["provider", "outcome"],
    )
    rows = (
        ProvisioningAttempt.objects.order_by()
        .filter(outcome__in=PROVIDER_ERRORS, finished_at__gte=now - RECENT)
        .values_list("provider__name", "outcome")
        .annotate(n=Count("id"))
    )
    for provider, outcome, count in rows:
        family.add_metric([provider, outcome], count)
    yield family


def waiting_figures(now):
    deliveries = WebhookDelivery.objects.filter(
        status__in=DELIVERY_WAITING, next_attempt_at__lte=now
    ).aggregate(n=Count("id"), oldest=Min("next_attempt_at"))
    yield from backlog(
        "partner_webhooks_due",
        "Partner webhook deliveries due and not yet delivered.",
        deliveries["n"],
        age_seconds(now, deliveries["oldest"]),
    )
    checks = IdentityCheck.objects.filter(status=IdentityCheck.Status.PENDING).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    yield from backlog(
        "identity_checks_waiting",
        "Identity checks (replacement requests) waiting for a staff review.",
        checks["n"],
        age_seconds(now, checks["oldest"]),
    )
    payments = Payment.objects.filter(
        gateway=Gateway.MANUAL, status=Payment.Status.PENDING
    ).aggregate(n=Count("id"), oldest=Min("created_at"))
    yield from backlog(
        "payments_awaiting_confirmation",
        "Manual payments (bank transfer, wallets) waiting for a staff confirmation.",
        payments["n"],
        age_seconds(now, payments["oldest"]),
    )


def database_figures():
    now = timezone.now()
    yield from orders_by_status()
    yield from paid_to_fulfilled(now)
    yield from provider_errors(now)
    yield from waiting_figures(now)


def celery_figures():
    depths, outcomes = broker.read()
    queues = GaugeMetricFamily(
        "portal_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
    )
    for queue in ALL_QUEUES:
        queues.add_metric([queue], depths[queue])
    yield queues
    tasks = CounterMetricFamily(
        "portal_celery_tasks",
        "Task outcomes in the workers, by task and outcome.",
        labels=["task", "outcome"],
    )
    for (task, outcome), count in sorted(outcomes.items()):
        tasks.add_metric([task, outcome], count)
    yield tasks


SOURCES = {"database": database_figures, "broker": celery_figures}


class PortalCollector:
    """Every figure, read at scrape time; a source that fails reports its ``..._source_up`` 0."""

    def describe(self):
        return []

    def collect(self):
        up = GaugeMetricFamily(
            "portal_metrics_source_up",
            "1 when the figures of this source could be read at this scrape.",
            labels=["source"],
        )
        for name, figures in SOURCES.items():
            try:
                families = list(figures())
            except Exception as exc:
                logger.warning("Metrics from %s unavailable: %r", name, exc)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up
