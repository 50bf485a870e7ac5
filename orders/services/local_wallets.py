"""JazzCash and Easypaisa payments: the direct charge, and the reconciler that asks the wallet
about attempts whose callback never came (or that ran out of time)."""

import logging
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import audit
from orders.models import LOCAL_WALLET_GATEWAYS, Payment
from orders.payments import get_gateway
from orders.payments.base import OUTCOME_EXPIRED, OUTCOME_PAID, GatewayError, PaymentUpdate
from orders.services.payment_events import EventRejected, apply_update

logger = logging.getLogger(__name__)

RECONCILE_BATCH = 200
# After its expiry an attempt is asked about once more after this long (a payment made in the
# last second reaches the wallet's books a little later) before it is ended.
EXPIRY_GRACE = timedelta(minutes=2)


def charge_mobile_account(*, payment_id: int) -> None:
    """Ask the wallet to charge a direct payment's number; record its immediate answer.

    Safe to repeat: the wallet refuses a second transaction under the attempt's reference, and
    a transient error is raised for a retry (the reconciler sends the charge again otherwise).
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status != Payment.Status.PENDING or payment.gateway_status:
        return  # ended, or the wallet already answered
    gateway = get_gateway(payment.gateway)
    try:
        update = gateway.charge_mobile_account(payment)
    except GatewayError as exc:
        if exc.transient:
            raise
        update = PaymentUpdate(
            payment.external_reference, "failed", gateway_status=f"refused: {exc}"[:200]
        )
    settle(payment, update, note=f"{payment.gateway} charge of {payment.payer_account}")


def settle(payment: Payment, update: PaymentUpdate, *, note: str) -> None:
    """Apply what the wallet said about ``payment``; a mismatch is kept for staff, not applied."""
    if update.payment_reference != payment.external_reference:
        logger.warning("%s answered about %r, not %r", payment.gateway, update, payment)
        return
    try:
        apply_update(payment, update, source=payment.gateway, note=note)
    except EventRejected as exc:
        audit.record(
            action="payment_event.failed",
            target=payment.order,
            actor_label=payment.gateway,
            note=f"{note}: {exc.reason}",
        )
        logger.warning("Payment %s: %s", payment.pk, exc.reason)


def silent_payments(now=None):
    """Pending wallet attempts old enough that their callback is late."""
    now = now or timezone.now()
    late = now - timedelta(seconds=settings.WALLET_INQUIRY_AFTER_SECONDS)
    return Payment.objects.filter(
        gateway__in=LOCAL_WALLET_GATEWAYS, status=Payment.Status.PENDING, created_at__lte=late
    ).order_by("created_at")


def superseded_payments(now=None):
    """Wallet attempts cancelled by a newer attempt that the customer can still pay (on the
    phone, on a checkout page left open) until their expiry: money that arrives for one is
    recorded (and refunded when the order is paid otherwise) even if its callback is lost."""
    now = now or timezone.now()
    late = now - timedelta(seconds=settings.WALLET_INQUIRY_AFTER_SECONDS)
    return Payment.objects.filter(
        gateway__in=LOCAL_WALLET_GATEWAYS,
        status=Payment.Status.CANCELLED,
        expires_at__gte=now - EXPIRY_GRACE,
        created_at__lte=late,
    ).order_by("expires_at")


def reconcile_payment(payment: Payment, now=None) -> str:
    """Ask the wallet about one attempt and act on the answer; returns the outcome used.

    A direct charge the wallet never answered is sent again; an attempt past its expiry (and
    grace) that the wallet does not report paid is ended, so the order can be paid again.
    """
    from orders import tasks

    now = now or timezone.now()
    gateway = get_gateway(payment.gateway)
    pending = payment.status == Payment.Status.PENDING
    if pending and payment.payer_account and not payment.gateway_status:
        tasks.charge_mobile_account.delay_on_commit(payment.pk)
        return "charge sent again"
    try:
        update = gateway.inquire(payment)
    except GatewayError as exc:
        logger.info("Inquiry about payment %s failed: %s", payment.pk, exc)
        return "inquiry failed"
    expired = payment.expires_at is not None and now > payment.expires_at + EXPIRY_GRACE
    if pending and expired and update.outcome != OUTCOME_PAID:
        update = replace(update, outcome=OUTCOME_EXPIRED)
    settle(payment, update, note=f"{payment.gateway} status inquiry")
    return update.outcome


def reconcile_wallet_payments(now=None, limit: int = RECONCILE_BATCH) -> dict[str, int]:
    """Periodic: settle the wallet attempts whose callback is late by asking the wallet, and
    look once more at superseded attempts that can still be paid."""
    counts: dict[str, int] = {}
    for queryset in (silent_payments(now), superseded_payments(now)):
        for payment in queryset.select_related("order")[:limit]:
            outcome = reconcile_payment(payment, now)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts
