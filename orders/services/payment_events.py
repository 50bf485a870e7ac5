"""Incoming payment webhooks: verify, record once, then act on what the source says now.

Every event ends in one of three outcomes (ARCHITECTURE.md, rule 10): applied; ignored with a
reason (a duplicate, an object this portal did not create, an event type with nothing to do);
or failed with a reason staff read in the admin (a malformed event, an amount that does not
match, a refund that belongs elsewhere). An event that may succeed later (its payment row not
committed yet, the gateway unreachable) is retried, at most ``WEBHOOK_MAX_ATTEMPTS`` times.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import audit, dispatch
from core.money import quantize
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
    GatewayError,
    MalformedEvent,
    PaymentUpdate,
    VerifiedEvent,
)
from orders.payments.saved_cards import is_setup_event, setup_marker, setup_reference_of
from orders.services.payments import (
    mark_payment_expired,
    mark_payment_failed,
    mark_payment_succeeded,
)
from orders.services.provisioning import dispatch_lease, retry_delay
from orders.services.refunds import RefundConflict, record_gateway_refunds, record_refund_updates

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome
# Kept on an event about a Stripe object another app (or the dashboard) created on the same
# account: recorded and closed at once, never retried.
NOT_OURS = "not created by this portal"
PAYMENT_NOT_FOUND_RETRY_SECONDS = 5
MAX_REFERENCE_LENGTH = 255


class RetryLater(Exception):
    """The event may be applied on a later try."""

    retry_in: int | None = None


class PaymentNotFoundYet(RetryLater):
    """The event names a payment we have not committed yet; try again shortly."""

    retry_in = PAYMENT_NOT_FOUND_RETRY_SECONDS


class EventRejected(Exception):
    """The event cannot be applied, now or later: it is closed as failed with ``reason``."""

    def __init__(self, reason: str, *, order: Order | None = None):
        super().__init__(reason)
        self.reason = reason
        self.order = order


def receive_webhook(*, source: str, body: bytes, headers) -> WebhookEvent | None:
    """Verify and record an event (SignatureError if it does not verify).

    Returns None for an event already recorded. Processing runs in a task after commit. A
    signed event that cannot be used is recorded as failed at once, with why.
    """
    try:
        verified = get_gateway(source).verify_event(body, headers)
    except MalformedEvent as exc:
        return _record_malformed(source, body, exc)
    return record_event(source=source, verified=verified, body=body)


def record_event(*, source: str, verified: VerifiedEvent, body: bytes) -> WebhookEvent | None:
    """Record a verified event once (None if already recorded) and process it after commit."""
    from orders import tasks

    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source=source,
                event_id=verified.event_id,
                event_type=verified.event_type,
                payload=verified.payload,
                next_attempt_at=timezone.now() + dispatch_lease(),
            )
            tasks.process_webhook_event.delay_on_commit(event.pk)
    except IntegrityError:
        return None
    except DataError:  # e.g. text PostgreSQL cannot store in JSON (a NUL character)
        reason = "the event cannot be stored as sent"
        return _record_malformed(source, body, MalformedEvent(reason))
    return event


def _record_malformed(source: str, body: bytes, exc: MalformedEvent) -> WebhookEvent | None:
    """Keep a signed but unusable event, closed as failed, under its id or a digest of it."""
    digest = hashlib.sha256(body).hexdigest()
    text = body.decode(errors="replace").replace("\x00", "\ufffd")
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source=source,
                event_id=exc.event_id or f"malformed-{digest}",
                event_type=exc.event_type or "malformed",
                payload={"body": text},
                outcome=Outcome.FAILED,
                processed_at=timezone.now(),
                error=f"malformed event: {exc.reason}",
            )
    except IntegrityError:
        return None
    logger.warning("%s event %s closed as malformed: %s", source, event.event_id, exc.reason)
    return event


def process_webhook_event(event_id: int) -> None:
    """Act on a recorded event once and close it with its outcome.

    Raises RetryLater while it may succeed on a later try, with the next try's time kept on the
    event for the dispatcher; after ``WEBHOOK_MAX_ATTEMPTS`` tries it is closed as failed.
    """
    event = WebhookEvent.objects.get(pk=event_id)
    if event.outcome != Outcome.PENDING:
        return
    WebhookEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
    event.refresh_from_db(fields=["attempts"])
    try:
        _act(event)
    except EventRejected as exc:
        _close(event, Outcome.FAILED, exc.reason, order=exc.order)
    except Exception as exc:
        if event.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            logger.exception("Giving up on %s event %s", event.source, event.event_id)
            _close(event, Outcome.FAILED, f"gave up after {event.attempts} attempts: {exc}")
            return
        retry_in = getattr(exc, "retry_in", None)
        delay = timedelta(seconds=retry_in) if retry_in else retry_delay(event.attempts)
        WebhookEvent.objects.filter(pk=event.pk, outcome=Outcome.PENDING).update(
            error=(str(exc) or type(exc).__name__)[:2000], next_attempt_at=timezone.now() + delay
        )
        raise


def _act(event: WebhookEvent) -> None:
    if is_setup_event(event.event_type, event.payload):  # a card saved for auto-renew
        return _process_setup_event(event)
    update = _read(event)
    if update.outcome == OUTCOME_REFUND_UPDATED:  # names a refund, not a payment
        note = f"{event.source} event {event.event_id} ({event.event_type})"
        return _apply(
            event,
            lambda: record_refund_updates(gateway=event.source, refunds=update.refunds, note=note),
        )
    if update.outcome == OUTCOME_IGNORED:
        return _close(event, Outcome.IGNORED, update.note or "nothing to do for this event")
    payment = Payment.objects.filter(
        gateway=event.source, external_reference=update.payment_reference
    ).first()
    if payment is None:
        if not _is_ours(update):
            return _close_not_ours(event, update.payment_reference)
        # Ours, but start_payment has not stored the session id on its payment yet.
        raise PaymentNotFoundYet(f"payment not found yet: {update.payment_reference}")
    note = f"{event.source} event {event.event_id} ({event.event_type})"
    return _apply(event, lambda: apply_update(payment, update, source=event.source, note=note))


def _read(event: WebhookEvent) -> PaymentUpdate:
    """The gateway's reading of the event, or why it cannot be read."""
    verified = VerifiedEvent(event.event_id, event.event_type, event.payload)
    try:
        update = get_gateway(event.source).read_event(verified)
    except GatewayError as exc:
        if exc.transient:
            raise RetryLater(str(exc)) from exc
        raise EventRejected(f"the gateway refused to re-read it: {exc}") from exc
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise EventRejected(f"malformed event: {type(exc).__name__} {exc}") from exc
    reference = update.payment_reference
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_LENGTH:
        raise EventRejected("malformed event: the payment reference is not a short string")
    return update


def _apply(event: WebhookEvent, apply) -> None:
    """Run ``apply`` and close the event in one transaction, so it is acted on once.

    ``apply`` returns None (applied), or an (outcome, reason) pair.
    """
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.outcome != Outcome.PENDING:
            return
        outcome, reason = apply() or (Outcome.APPLIED, "")
        _finish(locked, outcome, reason)


def _close(event: WebhookEvent, outcome: str, reason: str, *, order: Order | None = None) -> None:
    """Close a pending event with ``outcome`` and why; a note goes on the order it concerns."""
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.outcome != Outcome.PENDING:
            return
        _finish(locked, outcome, reason)
        if order is not None:
            audit.record(
                action=f"payment_event.{outcome}",
                target=order,
                actor_label=event.source,
                note=f"{event.source} event {event.event_id} ({event.event_type}): {reason}",
            )
    log = logger.warning if outcome == Outcome.FAILED else logger.info
    log("%s event %s (%s) %s: %s", event.source, event.event_id, event.event_type, outcome, reason)


def _finish(locked: WebhookEvent, outcome: str, reason: str) -> None:
    locked.outcome = outcome
    locked.processed_at = timezone.now()
    locked.error = reason[:2000]
    locked.save(update_fields=["outcome", "processed_at", "error"])


def _is_ours(update: PaymentUpdate) -> bool:
    """Whether the gateway's object names one of our orders (its payment row may lag behind)."""
    if update.order_number is None:  # the gateway cannot tell: every object is ours
        return True
    return bool(update.order_number) and Order.objects.filter(number=update.order_number).exists()


def _close_not_ours(event: WebhookEvent, reference: str) -> None:
    """Close an event about someone else's object, with why, so it is never retried."""
    _close(event, Outcome.IGNORED, f"{NOT_OURS}: {reference or 'no reference'}; ignored")


def _setup_is_ours(event: WebhookEvent) -> bool:
    """Whether a Stripe setup session names one of our saved cards (its row may lag behind)."""
    if event.source != Gateway.STRIPE:  # the test gateway's setup events are all made here
        return True
    method_id = setup_marker(event.payload)
    return method_id.isdigit() and SavedPaymentMethod.objects.filter(pk=int(method_id)).exists()


def _process_setup_event(event: WebhookEvent) -> None:
    from orders.services.autorenew.cards import SetupNotFoundYet, complete_setup_event

    reference = setup_reference_of(event.payload)
    if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE_LENGTH:
        raise EventRejected("malformed event: the setup session id is not a short string")
    try:
        method = complete_setup_event(event)
    except SetupNotFoundYet as exc:
        if not _setup_is_ours(event):
            return _close_not_ours(event, str(exc))
        raise PaymentNotFoundYet(f"card setup not found yet: {exc}") from exc
    except GatewayError as exc:
        if exc.transient:
            raise RetryLater(str(exc)) from exc
        raise EventRejected(f"the gateway refused to re-read it: {exc}") from exc
    if method is None:
        return _close(event, Outcome.IGNORED, "the card setup is not complete")
    _close(event, Outcome.APPLIED, "")


def apply_update(payment: Payment, update: PaymentUpdate, *, source: str, note: str):
    """Change our records to match what the gateway reports (``note`` says how we learnt it).

    Returns None when applied, or an (outcome, reason) pair; raises EventRejected for what must
    not be applied.
    """
    remember_gateway_status(payment, update)
    if update.outcome == OUTCOME_PAID:
        if (update.amount, update.currency) != (payment.amount, payment.currency):
            expected = quantize(payment.amount, payment.currency)
            raise EventRejected(
                f"paid {update.currency} {update.amount}, expected {payment.currency} "
                f"{expected}: the payment is not recorded; refund it at the gateway",
                order=payment.order,
            )
        if not mark_payment_succeeded(payment=payment, note=note):
            return Outcome.IGNORED, "the payment's success was already recorded"
    elif update.outcome == OUTCOME_FAILED:
        if not mark_payment_failed(payment=payment, note=note):
            return Outcome.IGNORED, f"the payment is {payment.status}: a failure changes nothing"
    elif update.outcome == OUTCOME_EXPIRED:
        if not mark_payment_expired(payment=payment, note=f"checkout expired unpaid; {note}"):
            return Outcome.IGNORED, f"the payment is {payment.status}: nothing to expire"
    elif update.outcome == OUTCOME_REFUNDED:
        try:
            notes = record_gateway_refunds(payment=payment, refunds=update.refunds)
        except RefundConflict as exc:
            raise EventRejected(str(exc), order=payment.order) from exc
        if notes:
            audit.record(
                action="refund.capped",
                target=payment.order,
                actor_label=source,
                note="; ".join(notes),
            )
            return Outcome.APPLIED, "; ".join(notes)
    elif update.outcome == OUTCOME_DISPUTED:
        audit.record(action="payment.disputed", target=payment.order, actor_label=source, note=note)
        logger.warning("Payment %s of order %s disputed", payment.pk, payment.order.number)
    else:
        return Outcome.IGNORED, f"the payment is not final yet ({update.outcome})"
    return None


def remember_gateway_status(payment: Payment, update: PaymentUpdate) -> None:
    """Keep the gateway's transaction id and raw status on the payment, for staff."""
    changes = {
        name: value[:limit]
        for name, value, limit in (
            ("gateway_reference", update.gateway_reference, 100),
            ("gateway_status", update.gateway_status, 200),
        )
        if value and value[:limit] != getattr(payment, name)
    }
    if changes:
        Payment.objects.filter(pk=payment.pk).update(**changes, updated_at=timezone.now())
        for name, value in changes.items():
            setattr(payment, name, value)


def due_events(now=None):
    """Pending payment events whose next try has come, with tries left (a provider's callback
    is applied by its own request)."""
    now = now or timezone.now()
    return WebhookEvent.objects.exclude(source=WebhookEvent.Source.PROVIDER).filter(
        outcome=Outcome.PENDING,
        next_attempt_at__lte=now,
        attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
    )


def dispatch_due_events(now=None, limit: int = dispatch.BATCH) -> int:
    """Send due events to workers; each is due again after the dispatch lease unless it ends."""
    from orders import tasks

    now = now or timezone.now()
    lease = {"next_attempt_at": now + dispatch_lease()}
    send = tasks.process_webhook_event.delay_on_commit
    return dispatch.hand_out_due(due_events(now), lease=lease, send=send, limit=limit)
