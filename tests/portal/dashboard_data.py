"""A hand-built week of business for the staff dashboard tests, with the figures it must show.

Times are relative to NOW (15:00 in Karachi, the site's zone): the week is 4 to 10 March.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.models import IdentityCheck
from orders.models import Gateway, Order, Payment, ProvisioningAttempt, Refund
from plans.models import Provider, ProviderCall
from tests.factories import (
    IdentityCheckFactory,
    OrderFactory,
    PartnerFactory,
    PaymentFactory,
    PlanFactory,
    ProviderFactory,
    ProvisioningAttemptFactory,
    RefundFactory,
    WalletEntryFactory,
)

KARACHI = ZoneInfo("Asia/Karachi")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=KARACHI)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FULFILLED = Order.Status.FULFILLED


def paid_order(plan, currency, total, paid_at, *, seconds=None, quantity=1, status=FULFILLED):
    """An order paid at ``paid_at`` and, when ``seconds`` is given, fulfilled that much later.

    Its cost snapshot is the plan's cost times the quantity now, as ``place_order`` takes it.
    """
    return OrderFactory(
        plan=plan,
        currency=currency,
        subtotal=Decimal(total),
        total=Decimal(total),
        quantity=quantity,
        status=status,
        paid_at=paid_at,
        fulfilled_at=paid_at + timedelta(seconds=seconds) if seconds is not None else None,
    )


def build_week() -> dict:
    """Orders in PKR and CNY, a refund, attempts, calls, checks and partners; returns objects."""
    rupee_plan = PlanFactory(cost=Decimal("400"), cost_currency="PKR")
    yuan_plan = PlanFactory(cost=Decimal("10"), cost_currency="CNY")
    dollar_cost_plan = PlanFactory(cost=Decimal("1.5"), cost_currency="USD")

    refunded = paid_order(rupee_plan, "PKR", 1000, NOW - 5 * HOUR, seconds=60)
    payment = PaymentFactory(order=refunded, amount=Decimal(1000), status="succeeded")
    RefundFactory(payment=payment, amount=Decimal(200), status=Refund.Status.SUCCEEDED)
    two = paid_order(rupee_plan, "PKR", 500, NOW - 3 * DAY, seconds=120, quantity=2)
    pending_refund = PaymentFactory(order=two, amount=Decimal(500), status="succeeded")
    RefundFactory(payment=pending_refund, amount=Decimal(100))  # still pending: not counted
    paid_order(yuan_plan, "CNY", 30, NOW - 6 * HOUR, seconds=180)
    paid_order(dollar_cost_plan, "CNY", 25, NOW - 2 * DAY, seconds=240)
    stuck = paid_order(rupee_plan, "PKR", 700, NOW - DAY, status=Order.Status.NEEDS_ATTENTION)
    paid_order(rupee_plan, "PKR", 999, NOW - 8 * DAY, seconds=30)  # before the week
    OrderFactory(plan=rupee_plan, status=Order.Status.AWAITING_PAYMENT)  # never paid
    waiting = paid_order(rupee_plan, "PKR", 100, NOW - 20 * DAY, status=Order.Status.PAID)
    Order.objects.filter(pk=waiting.pk).update(updated_at=NOW - HOUR)
    manual = OrderFactory(plan=rupee_plan, status=Order.Status.AWAITING_PAYMENT)
    PaymentFactory(order=manual, gateway=Gateway.MANUAL, status=Payment.Status.PENDING)

    sandbox = ProviderFactory()
    airalo = ProviderFactory(name="Airalo", adapter=Provider.Adapter.AIRALO)
    outcomes = ProvisioningAttempt.Outcome
    for provider, outcome, age in [
        (sandbox, outcomes.SUCCEEDED, HOUR),
        (sandbox, outcomes.PERMANENT_ERROR, 2 * HOUR),
        (sandbox, outcomes.IN_PROGRESS, 3 * HOUR),
        (sandbox, outcomes.TRANSIENT_ERROR, 3 * DAY),
        (sandbox, outcomes.SUCCEEDED, 3 * DAY),
        (airalo, outcomes.SUCCEEDED, 3 * DAY),
        (airalo, outcomes.PERMANENT_ERROR, 10 * DAY),  # before the week
    ]:
        attempt = ProvisioningAttemptFactory(order=stuck, provider=provider, outcome=outcome)
        ProvisioningAttempt.objects.filter(pk=attempt.pk).update(started_at=NOW - age)
    calls = ProviderCall.Outcome
    for latency, outcome, age in [
        (100, calls.OK, HOUR),
        (200, calls.OK, HOUR),
        (300, calls.TRANSIENT, 2 * HOUR),
        (1000, calls.OK, 3 * DAY),
        (50, calls.PERMANENT, 3 * DAY),
        (9999, calls.OK, 9 * DAY),  # before the week
    ]:
        ProviderCall.objects.create(
            provider=airalo,
            operation="order",
            method="POST",
            path="/orders",
            outcome=outcome,
            latency_ms=latency,
            started_at=NOW - age,
        )

    for status, age in [
        (IdentityCheck.Status.PENDING, 30 * HOUR),
        (IdentityCheck.Status.PENDING, 2 * HOUR),
        (IdentityCheck.Status.APPROVED, 100 * HOUR),
    ]:
        check = IdentityCheckFactory(status=status)
        IdentityCheck.objects.filter(pk=check.pk).update(created_at=NOW - age)

    short = PartnerFactory(name="Karachi Travel", currency="USD", low_balance_threshold=1000)
    WalletEntryFactory(partner=short, amount=Decimal(1500), currency="USD")
    WalletEntryFactory(partner=short, amount=Decimal(-700), currency="USD", kind="order_debit")
    flush = PartnerFactory(name="Lahore Mobile", low_balance_threshold=1000)
    WalletEntryFactory(partner=flush, amount=Decimal(5000))
    PartnerFactory(name="No Warning", low_balance_threshold=0)
    empty = PartnerFactory(name="Empty Shop", low_balance_threshold=50)
    PartnerFactory(name="Closed Shop", low_balance_threshold=50, is_active=False)
    return {
        "sandbox": sandbox,
        "airalo": airalo,
        "short": short,
        "empty": empty,
        "rupee_plan": rupee_plan,
        "yuan_plan": yuan_plan,
    }


def add_noise(count: int) -> None:
    """More of everything the dashboard counts, to show its queries do not grow with data."""
    plan = PlanFactory()
    provider = ProviderFactory()
    for n in range(count):
        order = paid_order(plan, "PKR", 100 + n, NOW - (n % 7) * DAY, seconds=60 + n)
        RefundFactory(payment=PaymentFactory(order=order, status="succeeded"), status="succeeded")
        ProvisioningAttemptFactory(order=order, provider=provider, outcome="transient_error")
        ProviderCall.objects.create(
            provider=provider,
            operation="order",
            method="POST",
            path="/orders",
            outcome="ok",
            latency_ms=n,
            started_at=NOW - HOUR,
        )
        IdentityCheckFactory()
        PartnerFactory(low_balance_threshold=10)
