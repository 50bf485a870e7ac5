"""Incoming payment webhooks: verify, record once, then act on what the source says now."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import Gateway, Order, Payment, SavedPaymentMethod, WebhookEvent
from orders.payments import get_gateway
from orders.payments.base import (
    OUTCOME_DISPUTED,
    OUTCOME_EXPIRED,
    OUTCOME_FAILED,
    OUTCOME_IGNORED,
    OUTCOME_PAID,
    OUTCOME_REFUND_UPDATED,
    OUTCOME_REFUNDED,
    PaymentUpdate,
    VerifiedEvent,
)
from orders.payments.saved_cards import is_setup_event, setup_marker
from orders.services.payments import (
    mark_payment_expired,
    mark_payment_failed,
    mark_payment_succeeded,
)
from orders.services.refunds import record_gateway_refunds, record_refund_updates
from portal import audit

logger = logging.getLogger(__name__)

# Kept on an event about a Stripe object another app (or the dashboard) created on the same
# account: recorded and closed at once, never retried.
NOT_OURS = "not created by this portal"


class PaymentNotFoundYet(Exception):
    """The event names a payment we have not committed yet; try again shortly."""


def receive_webhook(*, source: str, body: bytes, headers) -> WebhookEvent | None:
    """Verify and record an event (SignatureError if it does not verify).

    Returns None for an event already recorded. Processing runs in a task after commit.
    """
    from orders import tasks

    verified = get_gateway(source).verify_event(body, headers)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source=source,
                event_id=verified.event_id,
                event_type=verified.event_type,
                payload=verified.payload,
            )
            tasks.process_webhook_event.delay_on_commit(event.pk)
    except IntegrityError:
        return None
    return event


def process_webhook_event(event_id: int) -> None:
    """Act on a recorded event once. Raises PaymentNotFoundYet to be retried later."""
    event = WebhookEvent.objects.get(pk=event_id)
    if event.processed_at:
        return
    if is_setup_event(event.event_type, event.payload):  # a card saved for auto-renew
        return _process_setup_event(event)
    gateway = get_gateway(event.source)
    update = gateway.read_event(VerifiedEvent(event.event_id, event.event_type, event.payload))
    if update.outcome == OUTCOME_REFUND_UPDATED:  # names a refund, not a payment
        return _process_refund_update(event, update)
    payment = Payment.objects.filter(
        gateway=event.source, external_reference=update.payment_reference
    ).first()
    if payment is None and update.outcome != OUTCOME_IGNORED:
        if not _is_ours(update):
            return _close_not_ours(event, update.payment_reference)
        # Ours, but start_payment has not stored the session id on its payment yet.
        WebhookEvent.objects.filter(pk=event.pk).update(error="payment not found yet")
        raise PaymentNotFoundYet(update.payment_reference)
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.processed_at:
            return
        if payment is not None:
            apply_update(payment, update, event)
        locked.processed_at = timezone.now()
        locked.error = ""
        locked.save(update_fields=["processed_at", "error"])


def _is_ours(update: PaymentUpdate) -> bool:
    """Whether the gateway's object names one of our orders (its payment row may lag behind)."""
    if update.order_number is None:  # the gateway cannot tell: every object is ours
        return True
    return bool(update.order_number) and Order.objects.filter(number=update.order_number).exists()


def _close_not_ours(event: WebhookEvent, reference: str) -> None:
    """Mark an event about someone else's object processed, with why, so it is never retried."""
    note = f"{NOT_OURS}: {reference or 'no reference'}; ignored"
    logger.info("%s event %s (%s): %s", event.source, event.event_id, event.event_type, note)
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), error=note
    )


def _setup_is_ours(event: WebhookEvent) -> bool:
    """Whether a Stripe setup session names one of our saved cards (its row may lag behind)."""
    if event.source != Gateway.STRIPE:  # the test gateway's setup events are all made here
        return True
    method_id = setup_marker(event.payload)
    return method_id.isdigit() and SavedPaymentMethod.objects.filter(pk=int(method_id)).exists()


def _process_refund_update(event: WebhookEvent, update: PaymentUpdate) -> None:
    """A refund's status changed: apply it to our refund, if we have it and it is pending."""
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.processed_at:
            return
        record_refund_updates(
            gateway=event.source,
            refunds=update.refunds,
            note=f"{event.source} event {event.event_id} ({event.event_type})",
        )
        locked.processed_at = timezone.now()
        locked.error = ""
        locked.save(update_fields=["processed_at", "error"])


def _process_setup_event(event: WebhookEvent) -> None:
    from orders.services.autorenew import SetupNotFoundYet, complete_setup_event

    try:
        complete_setup_event(event)
    except SetupNotFoundYet as exc:
        if not _setup_is_ours(event):
            return _close_not_ours(event, str(exc))
        WebhookEvent.objects.filter(pk=event.pk).update(error="card setup not found yet")
        raise PaymentNotFoundYet(str(exc)) from exc
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), error=""
    )


def apply_update(payment: Payment, update: PaymentUpdate, event: WebhookEvent) -> None:
    """Change our records to match what the gateway reports."""
    note = f"{event.source} event {event.event_id} ({event.event_type})"
    if update.outcome == OUTCOME_PAID:
        if (update.amount, update.currency) != (payment.amount, payment.currency):
            raise ValueError(
                f"Paid {update.currency} {update.amount}, expected "
                f"{payment.currency} {payment.amount}"
            )
        mark_payment_succeeded(payment=payment, note=note)
    elif update.outcome == OUTCOME_FAILED:
        mark_payment_failed(payment=payment, note=note)
    elif update.outcome == OUTCOME_EXPIRED:
        mark_payment_expired(payment=payment, note=f"checkout expired unpaid; {note}")
    elif update.outcome == OUTCOME_REFUNDED:
        record_gateway_refunds(payment=payment, refunds=update.refunds)
    elif update.outcome == OUTCOME_DISPUTED:
        audit.record(
            action="payment.disputed", target=payment.order, actor_label=event.source, note=note
        )
        logger.warning("Payment %s of order %s disputed", payment.pk, payment.order.number)


def record_event_error(event_id: int, error: str) -> None:
    """Keep why an event could not be processed, for staff to see."""
    WebhookEvent.objects.filter(pk=event_id).update(error=error[:2000])


def unprocessed_events(now=None):
    """Events recorded but not acted on after the reconcile delay."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    return WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=quiet_since
    ).values_list("pk", flat=True)
