"""The staff dashboard's operational figures: providers, identity queue, wallets, problem orders."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Min, Q

from accounts.models import IdentityCheck, Partner
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from orders.admin import ProblemsFilter
from orders.admin.review import SLA_LIMIT, SLA_TARGET
from orders.models import Order, ProvisioningAttempt, WalletEntry
from plans.models import ProviderCall
from portal.dashboard.percentiles import percentiles

MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
LOW_BALANCE_ROWS = 20
FAILED_ATTEMPTS = [
    ProvisioningAttempt.Outcome.TRANSIENT_ERROR,
    ProvisioningAttempt.Outcome.PERMANENT_ERROR,
]
FAILED_CALLS = [ProviderCall.Outcome.TRANSIENT, ProviderCall.Outcome.PERMANENT]


@dataclass
class Rate:
    """Failures among settled attempts or calls."""

    total: int = 0
    failed: int = 0

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(self.failed) * 100 / self.total).quantize(Decimal("0.1"))


@dataclass
class ProviderHealth:
    """One provider's provisioning failures, upstream call errors and p95 latency."""

    provider_id: int
    name: str
    attempts_day: Rate = field(default_factory=Rate)
    attempts_week: Rate = field(default_factory=Rate)
    calls_day: Rate = field(default_factory=Rate)
    calls_week: Rate = field(default_factory=Rate)
    p95_day_ms: int | None = None
    p95_week_ms: int | None = None


@dataclass
class IdentityQueue:
    waiting: int = 0
    oldest_at: datetime | None = None
    age: timedelta | None = None

    @property
    def level(self) -> str:
        """``ok``, ``due`` (past the 24 h target) or ``late`` (past the 48 h limit)."""
        if self.age is None or self.age <= SLA_TARGET:
            return "ok"
        return "late" if self.age > SLA_LIMIT else "due"


@dataclass
class LowBalance:
    partner_id: int
    name: str
    currency: str
    balance: Decimal
    threshold: Decimal


@dataclass
class Problem:
    key: str
    label: str
    count: int


def _rates(queryset, failed: list[str], settled: Q, day_ago: datetime):
    recent = Q(started_at__gte=day_ago)
    failing = Q(outcome__in=failed)
    return (
        queryset.values("provider_id", "provider__name")
        .annotate(
            week_total=Count("pk", filter=settled),
            week_failed=Count("pk", filter=failing),
            day_total=Count("pk", filter=settled & recent),
            day_failed=Count("pk", filter=failing & recent),
        )
        .order_by()
    )


def provider_health(week_start: datetime, day_ago: datetime) -> list[ProviderHealth]:
    """Failure rates and p95 call latency per provider over 24 hours and the week: 4 queries.

    An attempt counts once it has an outcome (in-progress ones are left out); a call fails on a
    transient or permanent error.
    """
    attempts = ProvisioningAttempt.objects.filter(started_at__gte=week_start)
    calls = ProviderCall.objects.filter(started_at__gte=week_start)
    settled = ~Q(outcome=ProvisioningAttempt.Outcome.IN_PROGRESS)
    found: dict[int, ProviderHealth] = {}

    def health(row) -> ProviderHealth:
        pk = row["provider_id"]
        return found.setdefault(pk, ProviderHealth(provider_id=pk, name=row["provider__name"]))

    for row in _rates(attempts, FAILED_ATTEMPTS, settled, day_ago):
        item = health(row)
        item.attempts_week = Rate(row["week_total"], row["week_failed"])
        item.attempts_day = Rate(row["day_total"], row["day_failed"])
    for row in _rates(calls, FAILED_CALLS, Q(), day_ago):
        item = health(row)
        item.calls_week = Rate(row["week_total"], row["week_failed"])
        item.calls_day = Rate(row["day_total"], row["day_failed"])
    week_p95 = percentiles(calls, "latency_ms", (95,), partition="provider_id")
    day_p95 = percentiles(
        calls.filter(started_at__gte=day_ago), "latency_ms", (95,), partition="provider_id"
    )
    for pk, item in found.items():
        item.p95_week_ms = week_p95[pk].values.get(95) if pk in week_p95 else None
        item.p95_day_ms = day_p95[pk].values.get(95) if pk in day_p95 else None
    return sorted(found.values(), key=lambda item: (item.name, item.provider_id))


def identity_queue(now: datetime) -> IdentityQueue:
    """Checks waiting for review and how long the oldest has waited: one query."""
    queue = IdentityCheck.objects.filter(status=IdentityCheck.Status.PENDING).aggregate(
        waiting=Count("pk"), oldest_at=Min("created_at")
    )
    oldest = queue["oldest_at"]
    return IdentityQueue(
        waiting=queue["waiting"], oldest_at=oldest, age=now - oldest if oldest else None
    )


def low_balances() -> list[LowBalance]:
    """Active partners whose ledger balance is below their threshold, lowest first: one query.

    The balance is the newest wallet entry's running balance, as everywhere
    (``WalletEntry.balance_of``); a threshold of 0 means the partner asked for no warning.
    """
    partners = (
        Partner.objects.filter(is_active=True, low_balance_threshold__gt=0)
        .annotate(balance=WalletEntry.balance_expression())
        .filter(balance__lt=F("low_balance_threshold"))
        .order_by(F("balance") - F("low_balance_threshold"), "name")
        .values_list("pk", "name", "currency", "balance", "low_balance_threshold")
    )
    return [LowBalance(*row) for row in partners[:LOW_BALANCE_ROWS]]


def problems() -> list[Problem]:
    """Orders in each of the order list's problem filters: one count per filter."""
    found = []
    for key, label in ProblemsFilter(None, {}, Order, None).lookup_choices:
        chosen = ProblemsFilter(None, {ProblemsFilter.parameter_name: [key]}, Order, None)
        found.append(Problem(key, str(label), chosen.queryset(None, Order.objects.all()).count()))
    return found
