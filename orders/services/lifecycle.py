"""Order state changes that more than one path shares."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Order, Payment
from orders.services.errors import OrderError
from portal.state import transition

PAYABLE_STATES = {Order.Status.CREATED, Order.Status.AWAITING_PAYMENT, Order.Status.PAYMENT_FAILED}


def mark_order_paid(*, order: Order, paid_at: datetime | None = None, actor=None) -> bool:
    """Move a payable order to paid and queue its provisioning after commit.

    Returns False when the order was already paid or beyond (a duplicate confirmation).
    """
    from orders import tasks

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in PAYABLE_STATES:
            order.refresh_from_db()
            return False
        transition(
            locked,
            Order.Status.PAID,
            actor=actor,
            actor_label="payments",
            changes={"paid_at": paid_at or timezone.now()},
        )
        tasks.provision_order.delay_on_commit(locked.pk)
    order.refresh_from_db()
    return True


def cancel_order(*, order: Order, actor=None, reason: str = "") -> None:
    """Cancel an order that has not been paid; pending payments are cancelled with it."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == Order.Status.CANCELLED:
            return
        if locked.status not in PAYABLE_STATES:
            raise OrderError("not_cancellable", _("A paid order is refunded, not cancelled."))
        for payment in locked.payments.filter(status=Payment.Status.PENDING):
            transition(payment, Payment.Status.CANCELLED, actor=actor, note=reason)
        transition(locked, Order.Status.CANCELLED, actor=actor, note=reason)
    order.refresh_from_db()
