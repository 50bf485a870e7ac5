"""Full and partial refunds, from staff or reported by the gateway."""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.money import quantize
from core.state import transition
from orders.models import Gateway, Order, Payment, Refund
from orders.payments import get_gateway
from orders.payments.base import (
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    STAFF_REFUND_MARK,
    GatewayError,
    RefundInfo,
    RefundResult,
)
from orders.services.errors import OrderError
from orders.services.lifecycle import SURPLUS, record_payment_success
from orders.services.provisioning import schedule_undo

logger = logging.getLogger(__name__)

REFUNDABLE_ORDER_STATES = {
    Order.Status.PAID,
    Order.Status.PROVISIONING,
    Order.Status.FULFILLED,
    Order.Status.NEEDS_ATTENTION,
}


class RefundConflict(Exception):
    """The gateway reports a refund this portal already holds on another payment."""


def refunded_amount(payment: Payment, *, include_pending: bool = False) -> Decimal:
    """What has been (or is being) refunded of ``payment``."""
    states = [Refund.Status.SUCCEEDED] + ([Refund.Status.PENDING] if include_pending else [])
    total = payment.refunds.filter(status__in=states).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def refund_order(
    *, order: Order, amount: Decimal | None = None, actor=None, reason: str = ""
) -> Refund:
    """Refund all or part of an order's payment through its gateway.

    The amount is in the currency's minor unit (a finer amount is refused). Refunds the oldest
    succeeded payment that still has money to give back.
    """
    with transaction.atomic():
        locked_order = Order.objects.select_for_update().get(pk=order.pk)
        payment, remaining = _refundable_payment(locked_order)
        if payment is None or locked_order.status not in REFUNDABLE_ORDER_STATES:
            raise OrderError("not_refundable", _("This order has no payment that can be refunded."))
        amount = remaining if amount is None else amount
        if not Decimal(0) < amount <= remaining or amount != quantize(amount, payment.currency):
            raise OrderError(
                "amount_invalid",
                _("Refund between 0 and %(remaining)s, in whole cents.") % {"remaining": remaining},
            )
        refund = _new_refund(payment, amount, reason=reason, actor=actor)
        gateway = get_gateway(payment.gateway)
        if gateway.runs_locally:
            result = gateway.refund(refund)
            _settle(refund, result, actor)
    if not gateway.runs_locally:
        try:
            result = gateway.refund(refund)
        except GatewayError as exc:
            if not exc.transient:
                transition(refund, Refund.Status.FAILED, actor=actor, note=str(exc))
            raise OrderError("refund_failed", _("The refund did not go through: %s") % exc) from exc
        with transaction.atomic():
            _settle(refund, result, actor)
    if refund.status == Refund.Status.FAILED:
        raise OrderError(
            "refund_failed",
            _("The gateway refused the refund; nothing was refunded: %s") % result.note,
        )
    return refund


def _refundable_payment(order: Order) -> tuple[Payment | None, Decimal]:
    """The oldest succeeded payment of ``order`` with money left to refund, locked, and how much."""
    for payment in (
        Payment.objects.select_for_update()
        .filter(order=order, status=Payment.Status.SUCCEEDED)
        .order_by("created_at", "pk")
    ):
        remaining = payment.amount - refunded_amount(payment, include_pending=True)
        if remaining > 0:
            return payment, remaining
    return None, Decimal(0)


def _new_refund(payment: Payment, amount: Decimal, *, reason: str, actor=None) -> Refund:
    return Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        created_by=actor,
        idempotency_key=f"{payment.idempotency_key}-r{payment.refunds.count() + 1}",
    )


def refund_surplus(*, payment: Payment) -> Refund | None:
    """Give back money that arrived for an order already paid or closed, in full.

    The refund is recorded now, beside the payment, and sent to the gateway after commit; the
    order's timeline says why.
    """
    from orders import tasks

    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        remaining = locked.amount - refunded_amount(locked, include_pending=True)
        if locked.status != Payment.Status.SUCCEEDED or remaining <= 0:
            return None
        note = (
            f"Payment #{locked.pk} ({locked.currency} {locked.amount}, "
            f"{locked.external_reference or 'no reference'}) arrived for an order already paid "
            f"or closed; {locked.currency} {remaining} is refunded automatically."
        )
        if locked.gateway == Gateway.MANUAL:
            note += " Send the money back the way it came; the refund records it."
        refund = _new_refund(locked, remaining, reason="duplicate payment refunded automatically")
        audit.record(
            action="payment.surplus", target=locked.order, actor_label="payments", note=note
        )
        logger.warning("Order %s: %s", locked.order.number, note)
        tasks.send_refund.delay_on_commit(refund.pk)
    return refund


def send_refund(*, refund_id: int) -> None:
    """Ask the gateway for a refund recorded here and not sent yet (safe to repeat: the
    gateway call carries the refund's idempotency key). A transient error is raised for a retry.
    """
    refund = Refund.objects.select_related("payment__order").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING or refund.external_reference:
        return
    try:
        result = get_gateway(refund.payment.gateway).refund(refund)
    except GatewayError as exc:
        if exc.transient:
            raise
        with transaction.atomic():
            _fail(refund, "", None, actor_label="payments", note=str(exc))
        return
    with transaction.atomic():
        _settle(refund, result, None)


UNSENT_REFUND_WINDOW = timedelta(days=3)


def unsent_refunds(now=None):
    """Refunds recorded here that never got the gateway's answer (a transient error, a worker
    that died), older than the dispatch lease and younger than three days."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)
    return Refund.objects.filter(
        status=Refund.Status.PENDING,
        external_reference__isnull=True,
        created_at__lt=now - lease,
        created_at__gt=now - UNSENT_REFUND_WINDOW,
    ).values_list("pk", flat=True)


def record_gateway_refunds(*, payment: Payment, refunds: list[RefundInfo]) -> list[str]:
    """Record refunds the gateway reports (made here or in its dashboard), each once.

    A refund reported before the payment's success event records the payment's success first
    (the money was taken, then returned). What is reported beyond what was paid is capped.
    Raises RefundConflict, changing nothing, for a refund id held by another payment. Returns
    notes on what was not recorded as reported.
    """
    _check_refunds_belong_to(payment, refunds)
    notes = []
    with transaction.atomic():
        paid = record_payment_success(
            payment=payment, note="refund reported before the payment's success"
        )
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        for info in refunds:
            note = _record_reported_refund(payment, info)
            if note:
                notes.append(note)
        if paid == SURPLUS:
            refund_surplus(payment=payment)
    return notes


def _check_refunds_belong_to(payment: Payment, refunds: list[RefundInfo]) -> None:
    references = [info.external_reference for info in refunds]
    other = (
        Refund.objects.filter(external_reference__in=references)
        .exclude(payment=payment)
        .select_related("payment__order")
        .first()
    )
    if other is not None:
        raise RefundConflict(
            f"refund {other.external_reference} is already recorded on payment "
            f"#{other.payment_id} of order {other.payment.order.number}"
        )


def _record_reported_refund(payment: Payment, info: RefundInfo) -> str:
    """Record one reported refund once; returns a note when it was capped or dropped."""
    known = payment.refunds.filter(external_reference=info.external_reference).first()
    if known is None:
        # One of ours whose gateway call has not come back yet (no reference so far).
        known = payment.refunds.filter(
            status=Refund.Status.PENDING,
            external_reference__isnull=True,
            amount=info.amount,
        ).first()
    if known is not None:
        if known.status == Refund.Status.PENDING:
            _complete(known, info.external_reference, None)
        return ""
    remaining = payment.amount - refunded_amount(payment, include_pending=True)
    amount = min(quantize(info.amount, payment.currency), remaining)
    if amount <= 0:
        return (
            f"refund {info.external_reference} of {payment.currency} {info.amount} not "
            f"recorded: the payment is already refunded in full"
        )
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason="reported by the gateway",
        external_reference=info.external_reference,
        idempotency_key=f"gateway-{info.external_reference}",
    )
    _complete(refund, info.external_reference, None)
    if amount < info.amount:
        return (
            f"refund {info.external_reference} of {payment.currency} {info.amount} recorded "
            f"as {amount}: more than was left to refund"
        )
    return ""


def record_refund_updates(*, gateway: str, refunds: list[RefundInfo], note: str = "") -> None:
    """Apply the gateway's news about refunds made here: a pending one succeeds or fails, once.

    Refunds we do not know, and refunds already final, are left alone.
    """
    with transaction.atomic():
        for info in refunds:
            if info.status == REFUND_PENDING:
                continue
            refund = _find_refund(gateway, info)
            if refund is None:
                logger.info("No refund here for %s refund %s", gateway, info.external_reference)
                continue
            if refund.status != Refund.Status.PENDING:
                continue
            if info.status == REFUND_SUCCEEDED:
                _complete(refund, info.external_reference, None, actor_label=gateway, note=note)
            else:
                _fail(refund, info.external_reference, None, actor_label=gateway, note=info.note)


def _find_refund(gateway: str, info: RefundInfo) -> Refund | None:
    """Our refund ``info`` is about, locked: by the gateway's id, else by the pk it kept."""
    ours = Refund.objects.filter(payment__gateway=gateway)
    pk = (
        ours.filter(external_reference=info.external_reference).values_list("pk", flat=True).first()
    )
    if pk is None and info.refund_id:
        # Its gateway call has not come back yet, so the reference is not saved.
        pk = (
            ours.filter(pk=info.refund_id, external_reference__isnull=True, amount=info.amount)
            .values_list("pk", flat=True)
            .first()
        )
    return None if pk is None else Refund.objects.select_for_update().get(pk=pk)


def awaiting_staff(queryset=None):
    """Refunds the gateway could not send, waiting for staff to send them by hand."""
    queryset = Refund.objects.all() if queryset is None else queryset
    return queryset.filter(
        status=Refund.Status.PENDING, external_reference__contains=STAFF_REFUND_MARK
    )


def mark_refund_sent_by_staff(*, refund: Refund, actor, note: str = "") -> bool:
    """Staff sent a refund from the gateway's merchant portal: record the money as returned.

    Only a refund left for staff can be marked; returns False if it was already completed.
    """
    with transaction.atomic():
        locked = awaiting_staff().select_for_update().filter(pk=refund.pk).first()
        if locked is None:
            if STAFF_REFUND_MARK not in (refund.external_reference or ""):
                raise OrderError("not_staff_refund", _("This refund is sent by its gateway."))
            return False
        _complete(locked, locked.external_reference, actor, note=note or "sent by staff")
    refund.refresh_from_db()
    return True


def _settle(refund: Refund, result: RefundResult, actor) -> None:
    """Record what the gateway answered to the refund request."""
    if result.status == REFUND_SUCCEEDED:
        _complete(refund, result.external_reference, actor)
    elif result.status == REFUND_FAILED:
        _fail(refund, result.external_reference, actor, note=result.note)
    else:
        _keep_pending(refund, result.external_reference, actor, note=result.note)


def _keep_pending(refund: Refund, external_reference: str, actor, *, note: str = "") -> None:
    """The gateway accepted the refund but the money is not back yet: keep its id, wait."""
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if locked.status == Refund.Status.PENDING and not locked.external_reference:
        locked.external_reference = external_reference
        locked.save(update_fields=["external_reference", "updated_at"])
        audit.record(action="refund.pending", target=locked, actor=actor, note=note)
    refund.refresh_from_db()


def _fail(
    refund: Refund, external_reference: str, actor, *, actor_label: str = "", note: str = ""
) -> None:
    """The gateway refused or gave up: no money went back, the order and payment stay."""
    changes = {"external_reference": external_reference} if external_reference else None
    if not transition(
        refund,
        Refund.Status.FAILED,
        actor=actor,
        actor_label=actor_label,
        note=note,
        changes=changes,
    ):
        return
    order = Order.objects.get(pk=refund.payment.order_id)
    audit.record(
        action="refund.failed",
        target=order,
        actor=actor,
        actor_label=actor_label,
        note=f"Refund {refund.currency} {refund.amount} failed, nothing was refunded. {note}",
    )
    logger.warning("Refund %s of order %s failed: %s", refund.pk, order.number, note)


def _complete(
    refund: Refund, external_reference: str, actor, *, actor_label: str = "", note: str = ""
) -> None:
    transition(
        refund,
        Refund.Status.SUCCEEDED,
        actor=actor,
        actor_label=actor_label,
        note=note,
        changes={"external_reference": external_reference},
    )
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    if refunded_amount(payment) < payment.amount:
        return
    transition(payment, Payment.Status.REFUNDED, actor=actor, actor_label=actor_label, note=note)
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    money_left = order.payments.filter(status=Payment.Status.SUCCEEDED).exists()
    if money_left or not Order.TRANSITIONS.allows(order.status, Order.Status.REFUNDED):
        return  # another payment still pays for it, or it was never paid (a surplus)
    transition(
        order, Order.Status.REFUNDED, actor=actor, actor_label=actor_label, note=refund.reason
    )
    schedule_undo(order)  # a fully refunded purchase gives its eSIMs back
