"""Outgoing webhooks: events recorded with the change that caused them, sent after commit.

Body (thin: object ids and status; partners read details through the API)::

    {"id": "<event uuid>", "type": "order.fulfilled", "created": "2025-05-01T10:00:00Z",
     "data": {"order": "PK-7F3K9Q2M", "status": "fulfilled", ...}}

Signed per the Standard Webhooks specification (``orders.partner_webhooks.signing``): headers
``webhook-id`` (the event id), ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC>``,
keyed with the endpoint's secret. Deliveries to an order's own ``webhook_url`` are signed with
the partner's order webhook secret (``OrderWebhookSecret``: generated, shown once by the API,
rotatable).
Sending, retries and the periodic pick-up live in ``orders.partner_webhooks.delivery``.
"""

import logging
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Partner
from core import audit
from core.compiled import ScopedRows
from core.money import quantize
from orders import couriers
from orders.models import Order, ReplacementTicket, Sim, WalletEntry
from orders.models.partner_webhooks import (
    EventType,
    OrderWebhookSecret,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)

logger = logging.getLogger(__name__)

MAX_ENDPOINTS_PER_PARTNER = 10
ORDER_EVENTS = {
    Order.Status.FULFILLED: EventType.ORDER_FULFILLED,
    Order.Status.NEEDS_ATTENTION: EventType.ORDER_FAILED,
}
REPLACEMENT_EVENTS = {
    ReplacementTicket.Status.APPROVED: EventType.REPLACEMENT_APPROVED,
    ReplacementTicket.Status.REJECTED: EventType.REPLACEMENT_REJECTED,
    ReplacementTicket.Status.SHIPPED: EventType.REPLACEMENT_SHIPPED,
    ReplacementTicket.Status.ACTIVATED: EventType.REPLACEMENT_ACTIVATED,
}


class WebhookError(Exception):
    """A webhook request the current state does not allow (``code`` for the API)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class EndpointNotFound(Exception):
    """The endpoint is gone (deleted by a request that ran first): the API answers 404."""


def _locked_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Lock ``endpoint``'s row (inside a transaction) and read it again."""
    try:
        return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    except WebhookEndpoint.DoesNotExist as exc:
        raise EndpointNotFound(endpoint.pk) from exc


class EventBatch:
    """Deliveries recorded by ``emit`` inside ``batched_events()``, written together."""

    def __init__(self):
        self.endpoints: dict[int, list[WebhookEndpoint]] = {}
        self.deliveries: list[WebhookDelivery] = []

    def endpoints_of(self, partner_id: int) -> list[WebhookEndpoint]:
        if partner_id not in self.endpoints:
            self.endpoints[partner_id] = list(
                WebhookEndpoint.objects.filter(partner_id=partner_id, is_active=True)
            )
        return self.endpoints[partner_id]

    def flush(self) -> None:
        """Insert the deliveries kept so far (one INSERT) and queue their sends after commit."""
        from orders import tasks

        deliveries, self.deliveries = self.deliveries, []
        for delivery in WebhookDelivery.objects.bulk_create(deliveries, batch_size=500):
            tasks.deliver_webhook.delay_on_commit(delivery.pk)


_batch: ContextVar[EventBatch | None] = ContextVar("webhook_event_batch", default=None)


@contextmanager
def batched_events():
    """Inside the block, ``emit`` reads each partner's endpoints once and keeps the deliveries
    in memory; they are written with one INSERT when the block ends (also on an exception)."""
    batch = EventBatch()
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
        batch.flush()


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# A partner's active endpoints: read for every event it may be sent, compiled once.
ACTIVE_ENDPOINTS = ScopedRows(
    WebhookEndpoint,
    lambda partner_id: WebhookEndpoint.objects.filter(partner_id=partner_id, is_active=True),
)


def emit(
    *,
    partner: Partner | int,
    event_type: str,
    data: dict | Callable[[], dict],
    order: Order | None = None,
) -> list[WebhookDelivery]:
    """Record one delivery per active subscribed endpoint (and the order's own URL, if any).

    Runs in the caller's transaction: if it rolls back, nothing is sent. Sending starts after
    commit; the periodic ``send_due_webhooks`` picks up anything whose task was lost. Inside
    ``batched_events()`` the rows are written when the block ends (returned without ids).
    ``data`` may be a function that reads it: called only when someone is to be sent the event.
    """
    from orders import tasks

    if event_type not in EventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    partner_id = getattr(partner, "pk", partner)
    batch = _batch.get()
    endpoints = (
        batch.endpoints_of(partner_id) if batch is not None else ACTIVE_ENDPOINTS.all(partner_id)
    )
    targets = [(endpoint, endpoint.url) for endpoint in endpoints if endpoint.wants(event_type)]
    if order is not None and order.webhook_url:
        targets.append((None, order.webhook_url))
    if not targets:
        return []
    if callable(data):
        data = data()
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event_type, "created": _iso(now), "data": data}
    deliveries = [
        WebhookDelivery(
            partner_id=partner_id,
            endpoint=endpoint,
            url=url,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )
        for endpoint, url in targets
    ]
    if batch is not None:
        batch.deliveries.extend(deliveries)
        return deliveries
    deliveries = WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        tasks.deliver_webhook.delay_on_commit(delivery.pk)
    return deliveries


def emit_order_event(order: Order) -> None:
    """``order.fulfilled`` / ``order.failed`` for a partner order in one of those states."""
    event_type = ORDER_EVENTS.get(order.status)
    if not order.partner_id or event_type is None:
        return

    def data() -> dict:  # the ICCIDs are read only for a partner who is sent the event
        fields = {
            "order": order.number,
            "kind": order.kind,
            "status": order.status,
            "customer_reference": order.customer_reference,
        }
        if order.status == Order.Status.FULFILLED:
            fields["sims"] = order.issued_iccid_list()
            if order.sim_id:
                fields["sim"] = Sim.objects.values_list("iccid", flat=True).get(pk=order.sim_id)
        return fields

    emit(partner=order.partner_id, event_type=event_type, data=data, order=order)


def emit_replacement_event(ticket: ReplacementTicket) -> None:
    """``replacement.approved`` / ``.rejected`` for a partner's SIM; for a card sent by post,
    ``replacement.shipped`` (with the courier's tracking) and ``replacement.activated``."""
    event_type = REPLACEMENT_EVENTS.get(ticket.status)
    partner_id = ticket.partner_id or ticket.sim.partner_id
    if not partner_id or event_type is None:
        return
    data = {"replacement": ticket.pk, "sim": ticket.sim.iccid, "status": ticket.status}
    if ticket.status in (ReplacementTicket.Status.SHIPPED, ReplacementTicket.Status.ACTIVATED):
        data["new_sim"] = Sim.objects.values_list("iccid", flat=True).get(pk=ticket.new_sim_id)
    if ticket.status == ReplacementTicket.Status.SHIPPED:
        data["courier"] = ticket.courier
        data["tracking_number"] = ticket.tracking_number
        data["tracking_url"] = couriers.tracking_url(ticket.courier, ticket.tracking_number)
    emit(partner=partner_id, event_type=event_type, data=data)


def emit_sim_event(*, sim: Sim, event_type: str) -> None:
    """``sim.low_data`` / ``sim.expiring`` for a partner's SIM (for the scheduled sweeps)."""
    if not sim.partner_id:
        return
    data = {
        "sim": sim.iccid,
        "status": sim.status,
        "data_remaining_mb": sim.data_remaining_mb,
        "expires_at": _iso(sim.expires_at) if sim.expires_at else None,
    }
    emit(partner=sim.partner_id, event_type=event_type, data=data)


def emit_low_balance_if_crossed(*, partner: Partner, entry: WalletEntry) -> None:
    """After a debit, ``wallet.low_balance`` when it took the balance below the threshold.

    Sent once per crossing: only the debit that moves the balance from at or above the
    threshold to below it sends the event. The entry carries the balance right after it (written
    under the partner's row lock). A threshold of 0 turns it off.
    """
    threshold = partner.low_balance_threshold
    if entry.amount >= 0 or threshold <= 0:
        return
    after = entry.balance_after
    if not after - entry.amount >= threshold > after:
        return
    data = {
        "balance": str(quantize(Decimal(after), partner.currency)),
        "threshold": str(quantize(Decimal(threshold), partner.currency)),
        "currency": partner.currency,
    }
    emit(partner=partner, event_type=EventType.WALLET_LOW_BALANCE, data=data)


def order_webhook_secret(partner_id: int) -> str:
    """The secret that signs deliveries to orders' own URLs (created on first use)."""
    existing = OrderWebhookSecret.objects.filter(partner_id=partner_id).first()
    if existing is not None:
        return existing.secret
    try:
        with transaction.atomic():
            return OrderWebhookSecret.objects.create(partner_id=partner_id).secret
    except IntegrityError:
        return OrderWebhookSecret.objects.get(partner_id=partner_id).secret


def rotate_order_webhook_secret(*, partner: Partner, actor=None) -> OrderWebhookSecret:
    """A new order webhook secret; the old one stops signing at once. Shown to the caller once."""
    with transaction.atomic():
        record, created = OrderWebhookSecret.objects.select_for_update().get_or_create(
            partner=partner
        )
        if not created:
            record.secret, record.created_at = new_webhook_secret(), timezone.now()
            record.save(update_fields=["secret", "created_at"])
        audit.record(action="webhook.order_secret_rotated", target=partner, actor=actor)
    return record


def create_endpoint(*, partner: Partner, url: str, events: list[str]) -> WebhookEndpoint:
    """A new endpoint; its ``secret`` is returned to the caller once."""
    with transaction.atomic():
        Partner.objects.select_for_update().get(pk=partner.pk)
        if partner.webhook_endpoints.count() >= MAX_ENDPOINTS_PER_PARTNER:
            raise WebhookError(
                "too_many_endpoints", f"At most {MAX_ENDPOINTS_PER_PARTNER} webhook endpoints."
            )
        endpoint = WebhookEndpoint.objects.create(partner=partner, url=url, events=events)
        audit.record(action="webhook.endpoint_created", target=endpoint, after={"url": url})
    return endpoint


def update_endpoint(*, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    """Change url, events or is_active; switching an endpoint back on clears why it was off.

    Raises ``EndpointNotFound`` if the endpoint was deleted since the caller read it.
    """
    with transaction.atomic():
        locked = _locked_endpoint(endpoint)
        for name in ("url", "events", "is_active"):
            if name in changes:
                setattr(locked, name, changes[name])
        if "is_active" in changes:
            locked.disabled_reason = "" if locked.is_active else "Disabled by the partner."
        locked.save()
        audit.record(
            action="webhook.endpoint_changed",
            target=locked,
            after={k: v for k, v in changes.items() if k in ("url", "events", "is_active")},
        )
    return locked


def delete_endpoint(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log; nothing more is sent to it.

    Raises ``EndpointNotFound`` if another request deleted it first.
    """
    with transaction.atomic():
        locked = _locked_endpoint(endpoint)
        audit.record(action="webhook.endpoint_deleted", target=locked, before={"url": locked.url})
        locked.delete()


def disable_endpoint(endpoint_id: int, reason: str, actor=None) -> None:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if locked.is_active:
            locked.is_active, locked.disabled_reason = False, reason[:200]
            locked.save(update_fields=["is_active", "disabled_reason"])
            audit.record(
                action="webhook.endpoint_disabled", target=locked, actor=actor, note=reason
            )


def redeliver(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send the delivery again now, whatever its status (a new attempt row)."""
    from orders import tasks

    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if locked.endpoint_id and not locked.endpoint.is_active:
            raise WebhookError(
                "endpoint_disabled", "The endpoint is disabled: enable it before redelivering."
            )
        in_flight = locked.attempt_log.filter(outcome=WebhookAttempt.Outcome.IN_PROGRESS)
        if not in_flight.exists():
            locked.status = WebhookDelivery.Status.PENDING
            locked.next_attempt_at, locked.claimed_until = timezone.now(), None
            locked.save(update_fields=["status", "next_attempt_at", "claimed_until"])
            tasks.deliver_webhook.delay_on_commit(locked.pk)
        audit.record(action="webhook.redelivered", target=locked, actor=actor)
    return locked
