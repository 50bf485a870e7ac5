"""Auto-renew charges: once per SIM per period, guaranteed by the database.

A sweep inserts the period's ``AutoRenewalCharge`` first; only the transaction whose insert
succeeds goes on to charge (a duplicate run gets an IntegrityError and skips). Every later
attempt is claimed by a conditional UPDATE, and no row lock is held across the gateway call.
A declined charge is retried once after ``AUTO_RENEW_RETRY_HOURS``; a charge whose outcome is
unknown (a transient gateway error, a crash) is re-sent with the same idempotency key.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.state import transition
from orders.models import AutoRenewal, AutoRenewalCharge, Order, Payment
from orders.payments import saved_cards
from orders.payments.base import GatewayError
from orders.services.autorenew.notices import notify_auto_renew_failed
from orders.services.errors import OrderError
from orders.services.payments import mark_payment_failed, mark_payment_succeeded
from orders.services.placing import RENEWABLE_SIM_STATES, place_renewal

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
STALE_PENDING = timedelta(minutes=15)  # a pending charge this old stopped half-way: re-send it
Status = AutoRenewalCharge.Status


def period_key(expires_at) -> str:
    """The SIM's current period: its expiry in UTC (a renewal starts a new one)."""
    return expires_at.astimezone(UTC).isoformat()


def lead_time() -> timedelta:
    return timedelta(hours=getattr(settings, "AUTO_RENEW_LEAD_HOURS", 24))


def retry_delay() -> timedelta:
    return timedelta(hours=getattr(settings, "AUTO_RENEW_RETRY_HOURS", 6))


def due_renewals(now):
    """Enabled auto-renewals whose SIM expires within the lead time (or expired within it)."""
    return (
        AutoRenewal.objects.filter(
            enabled=True,
            payment_method__revoked_at__isnull=True,
            sim__status__in=RENEWABLE_SIM_STATES,
            sim__expires_at__lte=now + lead_time(),
            sim__expires_at__gt=now - lead_time(),
        )
        .select_related("sim", "plan", "payment_method")
        .order_by("pk")
    )


def run_auto_renewals(now=None) -> dict[str, int]:
    """Charge what is due, retry declines once, re-send charges that stopped half-way."""
    now = now or timezone.now()
    counts = {"charged": 0, "failed": 0, "skipped": 0, "retried": 0}
    for renewal in due_renewals(now).iterator(chunk_size=200):
        try:
            with transaction.atomic():
                charge = AutoRenewalCharge.objects.create(
                    auto_renewal=renewal, period_key=period_key(renewal.sim.expires_at)
                )
        except IntegrityError:
            counts["skipped"] += 1  # already charged (or being charged) this period
            continue
        counts["charged" if attempt_charge(charge) else "failed"] += 1
    for charge in _retry_candidates(now):
        counts["retried"] += 1
        attempt_charge(charge)
    return counts


def _retry_candidates(now):
    """Charges to try again, each claimed by a conditional UPDATE so one run takes it."""
    declined = AutoRenewalCharge.objects.filter(
        status=Status.FAILED, attempts__lt=MAX_ATTEMPTS, updated_at__lte=now - retry_delay()
    )
    for charge_id in list(declined.values_list("pk", flat=True)):
        claimed = AutoRenewalCharge.objects.filter(
            pk=charge_id, status=Status.FAILED, attempts__lt=MAX_ATTEMPTS
        ).update(status=Status.PENDING, attempts=F("attempts") + 1, updated_at=now)
        if claimed:
            yield AutoRenewalCharge.objects.get(pk=charge_id)
    stale = AutoRenewalCharge.objects.filter(
        status=Status.PENDING, updated_at__lte=now - STALE_PENDING
    )
    for charge_id, updated_at in list(stale.values_list("pk", "updated_at")):
        claimed = AutoRenewalCharge.objects.filter(
            pk=charge_id, status=Status.PENDING, updated_at=updated_at
        ).update(updated_at=now)
        if claimed:
            yield AutoRenewalCharge.objects.get(pk=charge_id)


def attempt_charge(charge: AutoRenewalCharge) -> bool:
    """Charge the saved card for ``charge``'s current attempt; True when the money came in."""
    renewal = AutoRenewal.objects.select_related("sim__owner", "plan", "payment_method").get(
        pk=charge.auto_renewal_id
    )
    sim = renewal.sim
    still_due = (
        renewal.enabled
        and sim.expires_at is not None
        and period_key(sim.expires_at) == charge.period_key
        and renewal.payment_method.usable
    )
    if not still_due:  # switched off, renewed by hand, or the card was removed meanwhile
        _finish(charge, Status.FAILED, "no longer due", attempts=MAX_ATTEMPTS)
        return False
    try:
        order = charge.order or _place(charge, renewal)
        payment = _payment(order, renewal, charge.attempts)
    except OrderError as exc:
        return _failed(charge, renewal, f"{exc.code}: {exc.message}")
    try:
        result = saved_cards.charge(
            renewal.payment_method,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=f"autorenew-{charge.pk}-{charge.attempts}",
            metadata={
                "order_number": order.number,
                "payment_id": str(payment.pk),
                "auto_renewal_charge_id": str(charge.pk),
            },
        )
    except GatewayError as exc:  # outcome unknown: left pending, re-sent later with the same key
        AutoRenewalCharge.objects.filter(pk=charge.pk).update(last_error=str(exc)[:2000])
        logger.warning("Auto-renew charge %s: %s", charge.pk, exc)
        return False
    if result.reference:
        Payment.objects.filter(pk=payment.pk).update(external_reference=result.reference)
    if result.succeeded:
        mark_payment_succeeded(payment=payment, note="auto-renew off-session charge")
        _finish(charge, Status.SUCCEEDED, "")
        return True
    mark_payment_failed(payment=payment, note=f"auto-renew declined: {result.error}")
    return _failed(charge, renewal, result.error or "declined")


def _place(charge: AutoRenewalCharge, renewal: AutoRenewal) -> Order:
    order = place_renewal(
        plan=renewal.plan,
        customer=renewal.sim.owner,
        currency=renewal.currency,
        sim=renewal.sim,
        customer_reference=f"auto-renew {charge.period_key}",
    )
    AutoRenewalCharge.objects.filter(pk=charge.pk).update(order=order)
    charge.order = order
    return order


def _payment(order: Order, renewal: AutoRenewal, attempt: int) -> Payment:
    """The attempt's pending payment (the same row when a stopped attempt is re-sent)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        payment, created = Payment.objects.get_or_create(
            idempotency_key=f"{locked.number}-auto{attempt}",
            defaults={
                "order": locked,
                "gateway": renewal.payment_method.gateway,
                "method": "card",
                "amount": locked.total,
                "currency": locked.currency,
            },
        )
        if created and locked.status != Order.Status.AWAITING_PAYMENT:
            transition(locked, Order.Status.AWAITING_PAYMENT, actor_label="auto-renew")
    return payment


def _failed(charge: AutoRenewalCharge, renewal: AutoRenewal, error: str) -> bool:
    _finish(charge, Status.FAILED, error)
    notify_auto_renew_failed(
        renewal=renewal, charge=charge, error=error, final=charge.attempts >= MAX_ATTEMPTS
    )
    return False


def _finish(charge: AutoRenewalCharge, status: str, error: str, attempts: int | None = None):
    changes = {"status": status, "last_error": error[:2000], "updated_at": timezone.now()}
    if attempts is not None:
        changes["attempts"] = attempts
    AutoRenewalCharge.objects.filter(pk=charge.pk).update(**changes)
    charge.refresh_from_db()
