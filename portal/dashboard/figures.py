"""The staff dashboard's figures, aggregated in the database with a fixed number of queries.

Definitions (the admin index shows them next to the figures):

* The week is today and the six days before it, in the site's time zone; "24 hours" is rolling.
* Sales are orders paid in the period (``Order.paid_at`` is set when the payment succeeds),
  whatever their status now, by the day they were paid. Revenue is the order total less the
  succeeded refunds of the order (on the order's paid day, even when refunded later), so a fully
  refunded order counts as an order with no revenue.
* Margin is net revenue less cost on the paid orders the provider delivered (``fulfilled_at``
  set). The cost is the order's own snapshot (``Order.cost``: the plan's cost times the quantity
  when the order was placed, so a later change of the plan's cost leaves past margins alone), and
  only where ``Order.cost_currency`` is the order's currency; other orders (cost in another
  currency, or none) are listed as not comparable. Orders placed before the snapshot existed were
  given their plan's cost at the time of the migration, the best available.
* Fulfilment time is ``fulfilled_at - paid_at`` of the orders fulfilled in the week.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from orders.models import Order, Refund
from portal.dashboard.operations import (
    IdentityQueue,
    LowBalance,
    Problem,
    ProviderHealth,
    identity_queue,
    low_balances,
    problems,
    provider_health,
)
from portal.dashboard.payment_methods import MethodFigures, payments_by_method
from portal.dashboard.percentiles import percentiles

ZERO = Decimal(0)
MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
WEEK_DAYS = 7


@dataclass(frozen=True)
class Period:
    """The moments the dashboard counts from."""

    now: datetime
    today: date
    week_start: datetime
    day_ago: datetime

    @classmethod
    def ending(cls, now: datetime | None = None) -> "Period":
        """The period ending at ``now`` (default: now)."""
        now = now or timezone.now()
        today = timezone.localdate(now)
        first_day = today - timedelta(days=WEEK_DAYS - 1)
        week_start = timezone.make_aware(datetime.combine(first_day, time.min))
        return cls(now=now, today=today, week_start=week_start, day_ago=now - timedelta(hours=24))

    @property
    def days(self) -> list[date]:
        """The week's days, oldest first."""
        return [self.today - timedelta(days=n) for n in range(WEEK_DAYS - 1, -1, -1)]


@dataclass
class Takings:
    """Orders and revenue in one currency."""

    currency: str
    orders: int = 0
    gross: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded


@dataclass
class Day:
    """One day of the week: orders in every currency, net revenue per currency."""

    day: date
    orders: int = 0
    net: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Margin:
    """Net retail less the orders' cost snapshots, in one currency."""

    currency: str
    orders: int = 0
    retail: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def margin(self) -> Decimal:
        return self.retail - self.cost

    @property
    def percent(self) -> Decimal | None:
        return (self.margin * 100 / self.retail).quantize(Decimal("0.1")) if self.retail else None


@dataclass
class Sales:
    today: list[Takings]
    week: list[Takings]
    days: list[Day]
    margins: list[Margin]
    not_comparable: list[Margin]

    @property
    def currencies(self) -> list[str]:
        return [takings.currency for takings in self.week]

    @property
    def rows(self) -> list[tuple[Takings, Takings]]:
        """``(week, today)`` per currency sold in the week."""
        today = {takings.currency: takings for takings in self.today}
        return [(week, today.get(week.currency, Takings(week.currency))) for week in self.week]


@dataclass
class Fulfilment:
    """Paid → fulfilled durations of the week's fulfilled orders."""

    count: int = 0
    p50: timedelta | None = None
    p95: timedelta | None = None


@dataclass
class Dashboard:
    period: Period
    sales: Sales
    fulfilment: Fulfilment
    providers: list[ProviderHealth]
    identity: IdentityQueue
    low_balances: list[LowBalance]
    problems: list[Problem]
    payment_methods: list[MethodFigures]


def build_dashboard(now: datetime | None = None) -> Dashboard:
    """Every figure of the staff dashboard, in a fixed number of queries."""
    period = Period.ending(now)
    return Dashboard(
        period=period,
        sales=sales(period),
        fulfilment=fulfilment(period),
        providers=provider_health(period.week_start, period.day_ago),
        identity=identity_queue(period.now),
        low_balances=low_balances(),
        problems=problems(),
        payment_methods=payments_by_method(period.week_start),
    )


def _refunded_of_order():
    """The order's succeeded refunds, summed (0 when none)."""
    refunds = (
        Refund.objects.filter(payment__order=OuterRef("pk"), status=Refund.Status.SUCCEEDED)
        .order_by()
        .values("payment__order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(refunds, output_field=MONEY), Value(ZERO), output_field=MONEY)


def sales(period: Period) -> Sales:
    """Orders, revenue and margin per day and currency over the week: one query."""
    delivered = Q(fulfilled_at__isnull=False)
    comparable = Q(cost_currency=F("currency"), cost__isnull=False)
    net = ExpressionWrapper(F("total") - F("refunded"), output_field=MONEY)
    rows = (
        Order.objects.filter(paid_at__gte=period.week_start)
        .annotate(day=TruncDate("paid_at"), refunded=_refunded_of_order())
        .values("day", "currency")
        .annotate(
            orders=Count("pk"),
            gross=Sum("total"),
            refunds=Sum("refunded"),
            margin_orders=Count("pk", filter=delivered & comparable),
            margin_retail=Sum(net, filter=delivered & comparable),
            margin_cost=Sum("cost", filter=delivered & comparable),
            other_orders=Count("pk", filter=delivered & ~comparable),
            other_retail=Sum(net, filter=delivered & ~comparable),
        )
        .order_by("day", "currency")
    )
    days = {day: Day(day=day) for day in period.days}
    today, week, margins, others = {}, {}, {}, {}
    for row in rows:
        currency = row["currency"]
        totals = [week.setdefault(currency, Takings(currency))]
        if row["day"] == period.today:
            totals.append(today.setdefault(currency, Takings(currency)))
        for takings in totals:
            takings.orders += row["orders"]
            takings.gross += row["gross"]
            takings.refunded += row["refunds"]
        if row["day"] in days:
            day = days[row["day"]]
            day.orders += row["orders"]
            day.net[currency] = row["gross"] - row["refunds"]
        _add(margins, currency, row["margin_orders"], row["margin_retail"], row["margin_cost"])
        _add(others, currency, row["other_orders"], row["other_retail"], None)
    return Sales(
        today=sorted(today.values(), key=_by_currency),
        week=sorted(week.values(), key=_by_currency),
        days=list(days.values()),
        margins=sorted(margins.values(), key=_by_currency),
        not_comparable=sorted(others.values(), key=_by_currency),
    )


def _add(margins: dict, currency: str, orders: int, retail, cost) -> None:
    if not orders:
        return
    margin = margins.setdefault(currency, Margin(currency))
    margin.orders += orders
    margin.retail += retail or ZERO
    margin.cost += cost or ZERO


def _by_currency(item) -> str:
    return item.currency


def fulfilment(period: Period) -> Fulfilment:
    """p50 and p95 of paid → fulfilled over the week's fulfilled orders: one query."""
    durations = Order.objects.filter(
        fulfilled_at__gte=period.week_start, paid_at__isnull=False
    ).annotate(
        duration=ExpressionWrapper(F("fulfilled_at") - F("paid_at"), output_field=DurationField())
    )
    ranked = percentiles(durations, "duration", (50, 95)).get(None)
    if ranked is None:
        return Fulfilment()
    return Fulfilment(count=ranked.count, p50=ranked.values.get(50), p95=ranked.values.get(95))
