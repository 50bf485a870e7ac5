"""Full and partial refunds, from staff or reported by the gateway."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from orders.models import Order, Payment, Refund
from orders.payments import get_gateway
from orders.payments.base import GatewayError, RefundInfo
from orders.services.errors import OrderError
from portal.state import transition

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
            _complete(refund, gateway.refund(refund), actor)
            return refund
    try:
        reference = gateway.refund(refund)
    except GatewayError as exc:
        if not exc.transient:
            transition(refund, Refund.Status.FAILED, actor=actor, note=str(exc))
        raise OrderError("refund_failed", _("The refund did not go through: %s") % exc) from exc
    with transaction.atomic():
        _complete(refund, reference, actor)
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
                known = payment.refunds.filter(
                    status=Refund.Status.PENDING, amount=info.amount
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


def _complete(refund: Refund, external_reference: str, actor) -> None:
    transition(
        refund,
        Refund.Status.SUCCEEDED,
        actor=actor,
        changes={"external_reference": external_reference},
    )
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    if refunded_amount(payment) < payment.amount:
        return
    transition(payment, Payment.Status.REFUNDED, actor=actor)
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if order.status != Order.Status.REFUNDED:
        transition(order, Order.Status.REFUNDED, actor=actor, note=refund.reason)
