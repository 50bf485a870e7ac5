"""Sending webhook deliveries: one POST per attempt, retried with back-off for about 3 days.

Never holds a row lock across the POST (ARCHITECTURE.md, rule 4): lock the delivery, record an
in-progress attempt and a short lease, commit; POST; lock again and record the result. Safe to
run twice: a delivery that succeeded, is not due yet, or has a live attempt is skipped.

Every wait is a ``next_attempt_at`` that ``send_due_webhooks`` (every 10 s) picks up with
``skip_locked``; no retry is held as a countdown in the broker.

Each attempt is signed the Standard Webhooks way (``orders.partner_webhooks.signing``):
``webhook-id`` is the event's id, the same on every retry, ``webhook-timestamp`` the time of
this attempt.

Each attempt resolves the URL's host and sends only if every address is public, connecting to
those addresses (``orders.partner_webhooks.transport``). A refused or unresolvable destination is a
failed attempt like a refused connection: retried on the schedule, since DNS can be fixed.
"""

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import dispatch
from orders.models.partner_webhooks import WebhookAttempt, WebhookDelivery, validate_webhook_url
from orders.partner_webhooks import services, signing, transport

Status = WebhookDelivery.Status
Outcome = WebhookAttempt.Outcome
OPEN_STATES = (Status.PENDING, Status.FAILED)

# Wait after the n-th failed attempt; after the last one the delivery is abandoned.
# 1 + 5 + 30 min + 2 + 5 + 10 + 10 + 12 + 14 + 18 h: the last try is 71 h 36 min after the first.
RETRY_SCHEDULE = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=14),
    timedelta(hours=18),
]
TIMEOUT_SECONDS = 10
SEND_LEASE = timedelta(minutes=2)  # an attempt without a result after this was lost
DISPATCH_LEASE = timedelta(minutes=5)  # a dispatched delivery is not dispatched again before
EARLY_TOLERANCE = timedelta(seconds=5)  # a dispatched task may arrive this early (clock skew)
USER_AGENT = "Paksim-Webhooks/1.0"


@dataclass(frozen=True)
class Claim:
    delivery: WebhookDelivery
    attempt: WebhookAttempt
    secrets: tuple[str, ...]  # every secret valid now; each signs (a rotation's overlap)


def retry_delay(failed_attempts: int) -> timedelta | None:
    """The wait after ``failed_attempts`` failures, or None to give up."""
    if failed_attempts > len(RETRY_SCHEDULE):
        return None
    return RETRY_SCHEDULE[failed_attempts - 1]


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def deliver(delivery_id: int) -> str | None:
    """Make one attempt if the delivery is due; returns its status afterwards."""
    claim = _claim(delivery_id)
    if claim is None:
        return (
            WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        )
    body = body_of(claim.delivery)
    event_id = str(claim.delivery.event_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Paksim-Event-Id": event_id,
        # Signed now, with this attempt's time: a retry is not a replay of an old request.
        **signing.sign_headers(event_id, body, claim.secrets),
    }
    status_code, error = None, ""
    started = time.monotonic()
    try:
        # Resolved and checked on every attempt; the POST connects to the vetted addresses only.
        addresses = transport.vet(
            claim.attempt.url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS
        )
        with transport.pinned_post(
            claim.attempt.url,
            addresses=addresses,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            stream=True,  # read at most a short excerpt of the answer
        ) as response:
            status_code = response.status_code
            if not 200 <= status_code < 300:
                excerpt = next(response.iter_content(200), b"").decode(errors="replace")
                error = f"HTTP {status_code}: {excerpt}".strip()
    except transport.DestinationError as exc:
        error = exc.reason  # nothing sent; retried on the usual schedule (DNS may be fixed)
    except requests.Timeout:
        error = f"No answer within {TIMEOUT_SECONDS} s."
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(claim, status_code, duration_ms, error)


def _claim(delivery_id: int) -> Claim | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        now = timezone.now()
        if delivery is None or delivery.status not in OPEN_STATES:
            return None
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now + EARLY_TOLERANCE:
            return None
        live = delivery.attempt_log.filter(outcome=Outcome.IN_PROGRESS).first()
        if live is not None:
            if live.started_at > now - SEND_LEASE:
                return None
            live.outcome, live.finished_at = Outcome.FAILED, now
            live.error = "No result recorded within the lease (the worker was lost)."
            live.save(update_fields=["outcome", "finished_at", "error"])
        endpoint = delivery.endpoint
        url = endpoint.url if endpoint else delivery.url
        refusal = _refusal(delivery, url)
        if refusal:
            _finish(delivery, Status.ABANDONED, last_error=refusal)
            return None
        delivery.attempts += 1
        delivery.url, delivery.claimed_until = url, now + SEND_LEASE
        delivery.save(update_fields=["attempts", "url", "claimed_until"])
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, url=url, started_at=now
        )
        secret = endpoint.secret if endpoint else services.order_webhook_secret(delivery.partner_id)
    return Claim(delivery=delivery, attempt=attempt, secrets=(secret,))


def _refusal(delivery: WebhookDelivery, url: str) -> str:
    if delivery.endpoint_id and not delivery.endpoint.is_active:
        return "The endpoint is disabled."
    try:
        validate_webhook_url(url)
    except ValidationError as exc:
        return f"URL refused: {' '.join(str(m) for m in exc.messages)}"
    return ""


def _finish(delivery: WebhookDelivery, status: str, **fields) -> None:
    delivery.status, delivery.next_attempt_at, delivery.claimed_until = status, None, None
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.save()


def _record(claim: Claim, status_code: int | None, duration_ms: int, error: str) -> str:

    succeeded = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claim.delivery.pk)
        attempt = WebhookAttempt.objects.select_for_update().get(pk=claim.attempt.pk)
        if attempt.outcome != Outcome.IN_PROGRESS:
            return delivery.status  # given up on as lost meanwhile; that decision stands
        now = timezone.now()
        attempt.outcome = Outcome.SUCCEEDED if succeeded else Outcome.FAILED
        attempt.status_code, attempt.duration_ms = status_code, duration_ms
        attempt.error, attempt.finished_at = error[:500], now
        attempt.save()
        result = {
            "last_status_code": status_code,
            "last_duration_ms": duration_ms,
            "last_error": error[:500],
        }
        delay = retry_delay(delivery.attempts)
        if succeeded:
            _finish(delivery, Status.SUCCEEDED, delivered_at=now, **result)
        elif status_code == 410 or delay is None:
            _finish(delivery, Status.ABANDONED, **result)
            if status_code == 410 and delivery.endpoint_id:
                reason = f"The endpoint answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
                services.disable_endpoint(delivery.endpoint_id, reason)
        else:
            delivery.status, delivery.next_attempt_at = Status.FAILED, now + delay
            delivery.claimed_until = None
            for name, value in result.items():
                setattr(delivery, name, value)
            delivery.save()
    return delivery.status


def due_deliveries(now=None):
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        status__in=OPEN_STATES,
        next_attempt_at__lte=now,
    )


def dispatch_due(now=None, limit: int = dispatch.BATCH) -> int:
    """Hand due deliveries to workers; rows another run has locked or claimed are skipped."""
    from orders import tasks

    now = now or timezone.now()
    lease = {"claimed_until": now + DISPATCH_LEASE}
    send = tasks.deliver_webhook.delay_on_commit
    return dispatch.hand_out_due(due_deliveries(now), lease=lease, send=send, limit=limit)
