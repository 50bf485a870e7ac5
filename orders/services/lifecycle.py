"""Order state changes that more than one path shares."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.state import moved_on_creation, transition
from orders.models import Order, Payment
from orders.services.errors import OrderError

PAYABLE_STATES = {Order.Status.CREATED, Order.Status.AWAITING_PAYMENT, Order.Status.PAYMENT_FAILED}

# What recording a payment's success did.
ALREADY_RECORDED = "already_recorded"  # a duplicate confirmation: nothing changed
PAID_THE_ORDER = "paid_the_order"
SURPLUS = "surplus"  # money for an order already paid or closed: it must go back


def record_payment_success(*, payment: Payment, actor=None, note: str = "") -> str:
    """Record the money of ``payment`` as received (from pending, failed or cancelled).

    The first payment to succeed pays the order; the order's other attempts are cancelled and
    their gateway sessions expired. Money that arrives for an order already paid or closed (an
    old checkout tab, a second session) is recorded all the same and reported as SURPLUS for
    the caller to refund. Locks the order, then the payment.
    """
    from orders import tasks

    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
            return ALREADY_RECORDED
        transition(locked, Payment.Status.SUCCEEDED, actor=actor, actor_label="payments", note=note)
        if order.status not in PAYABLE_STATES:
            return SURPLUS
        mark_held_order_paid(order=order, actor=actor)
        for other in order.payments.filter(status=Payment.Status.PENDING):
            transition(
                other,
                Payment.Status.CANCELLED,
                actor_label="payments",
                note=f"payment #{locked.pk} paid the order first",
            )
            tasks.expire_payment.delay_on_commit(other.pk)
    payment.refresh_from_db()
    return PAID_THE_ORDER


def mark_order_paid(*, order: Order, paid_at: datetime | None = None, actor=None) -> bool:
    """Move a payable order to paid and queue its provisioning after commit.

    Returns False when the order was already paid or beyond (a duplicate confirmation).
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        paid = mark_held_order_paid(order=locked, paid_at=paid_at, actor=actor)
    order.refresh_from_db()
    return paid


def mark_held_order_paid(*, order: Order, paid_at: datetime | None = None, actor=None) -> bool:
    """``mark_order_paid`` for an order the caller's transaction holds (locked or just created):
    ``order`` is changed in place, not read again."""
    from orders import tasks

    if order.status not in PAYABLE_STATES:
        return False
    changes = paid_fields(paid_at)
    transition(
        order, Order.Status.PAID, actor=actor, actor_label="payments", changes=changes, held=True
    )
    tasks.provision_order.delay_on_commit(order.pk)
    return True


def paid_fields(paid_at: datetime | None = None) -> dict:
    """What a paid order's row holds besides its status."""
    now = timezone.now()
    return {
        "paid_at": paid_at or now,
        # Provisioning is sent at once; due again (the dispatcher) if no worker takes it.
        "next_attempt_at": now + timedelta(seconds=settings.DISPATCH_LEASE_SECONDS),
    }


def record_created_paid(*, order: Order, actor=None) -> None:
    """An order created paid (from a wallet, in the transaction that created it, written with
    ``paid_fields()``): its move from created to paid audited, its provisioning queued."""
    from orders import tasks

    moved_on_creation(
        order, Order.Status.CREATED, Order.Status.PAID, actor=actor, actor_label="payments"
    )
    tasks.provision_order.delay_on_commit(order.pk)


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
