"""Full and partial refunds, from staff or reported by the gateway."""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from orders.models import Order, Payment, Refund
from orders.payments import get_gateway
from orders.payments.base import (
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    GatewayError,
    RefundInfo,
    RefundResult,
)
from orders.services.errors import OrderError
from portal import audit
from portal.state import transition

logger = logging.getLogger(__name__)

REFUNDABLE_ORDER_STATES = {
    Order.Status.PAID,
    Order.Status.FULFILLED,
    Order.Status.NEEDS_ATTENTION,
}


def refunded_amount(payment: Payment, *, include_pending: bool = False) -> Decimal:
    """What has been (or is being) refunded of ``payment``."""
    states = [Refund.Status.SUCCEEDED] + ([Refund.Status.PENDING] if include_pending else [])
    total = payment.refunds.filter(status__in=states).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def refund_order(
    *, order: Order, amount: Decimal | None = None, actor=None, reason: str = ""
) -> Refund:
    """Refund all or part of an order's payment through its gateway."""
    with transaction.atomic():
        locked_order = Order.objects.select_for_update().get(pk=order.pk)
        payment = (
            Payment.objects.select_for_update()
            .filter(order=locked_order, status=Payment.Status.SUCCEEDED)
            .first()
        )
        if payment is None or locked_order.status not in REFUNDABLE_ORDER_STATES:
            raise OrderError("not_refundable", _("This order has no payment that can be refunded."))
        remaining = payment.amount - refunded_amount(payment, include_pending=True)
        amount = remaining if amount is None else amount
        if not Decimal(0) < amount <= remaining:
            raise OrderError(
                "amount_invalid",
                _("Refund between 0 and %(remaining)s.") % {"remaining": remaining},
            )
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            currency=payment.currency,
            reason=reason,
            created_by=actor,
            idempotency_key=f"{payment.idempotency_key}-r{payment.refunds.count() + 1}",
        )
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


def record_gateway_refunds(*, payment: Payment, refunds: list[RefundInfo]) -> None:
    """Record refunds the gateway reports (made here or in its dashboard), each once."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in (Payment.Status.PENDING, Payment.Status.FAILED):
            # The refund arrived before the success event: the money was taken, then returned.
            transition(
                payment,
                Payment.Status.SUCCEEDED,
                actor_label="payments",
                note="refund reported before payment success",
            )
        for info in refunds:
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
                continue
            try:
                with transaction.atomic():
                    refund = Refund.objects.create(
                        payment=payment,
                        amount=info.amount,
                        currency=payment.currency,
                        reason="reported by the gateway",
                        external_reference=info.external_reference,
                        idempotency_key=f"gateway-{info.external_reference}",
                    )
            except IntegrityError:
                continue
            _complete(refund, info.external_reference, None)


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
    if order.status != Order.Status.REFUNDED:
        transition(
            order, Order.Status.REFUNDED, actor=actor, actor_label=actor_label, note=refund.reason
        )
