"""Usage sync: data left, expiry and status of our SIMs as their upstream provider sees them.

A periodic sweep (:func:`sync_usage`) claims due SIMs in batches (one UPDATE stamps the run's
claim and a lease on rows no other run holds, so two overlapping runs never read a SIM twice),
calls each SIM's provider outside any lock under a per-provider rate limit (an atomic cache
counter per minute), then locks the batch, re-checks and writes it, releasing the claims.
Provider callbacks apply the same update (:func:`apply_usage`). A reading older than the stored
``usage_synced_at`` is ignored, so out-of-order callbacks and slow sweeps never move a SIM back in
time.
"""

import logging
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.state import IllegalTransition, transition
from orders.models import Sim
from plans.providers import Capability, adapters_offering, get_adapter
from plans.providers.base import PermanentProviderError, TransientProviderError, Usage
from plans.providers.sandbox import callback as sandbox_callback

logger = logging.getLogger(__name__)

Status = Sim.Status
# Statuses a reading may update; replaced and cancelled SIMs are never touched.
SYNCED_STATES = (Status.ISSUED, Status.ACTIVE, Status.EXPIRED)
EXPIRED_SYNC_WINDOW = timedelta(days=1)  # expired SIMs are still read for a day (late renewals)
USAGE_FIELDS = ["data_total_mb", "data_remaining_mb", "expires_at", "usage_synced_at"]
CLAIM_FIELDS = ["usage_sync_claim", "usage_sync_claimed_until"]
# Longer than a run takes to read one batch; a claim left by a run that died ends with it.
CLAIM_LEASE = timedelta(minutes=15)
ORDER = (F("usage_synced_at").asc(nulls_first=True), "pk")
ACTOR_LABEL = "usage sync"
SANDBOX_SIGNATURE_HEADER = sandbox_callback.SIGNATURE_HEADER
callback_secret = sandbox_callback.callback_secret


def due_sims(now, provider_id: int | None = None):
    """SIMs whose usage is due for a read: live ones, and expired ones for a day after expiry,
    of active providers that read usage."""
    cutoff = now - timedelta(minutes=settings.USAGE_SYNC_INTERVAL_MINUTES)
    sims = Sim.objects.filter(
        Q(status__in=(Status.ISSUED, Status.ACTIVE))
        | Q(status=Status.EXPIRED, expires_at__gte=now - EXPIRED_SYNC_WINDOW),
        Q(usage_synced_at__isnull=True) | Q(usage_synced_at__lt=cutoff),
        provider__isnull=False,
        provider__is_active=True,
        provider__adapter__in=adapters_offering(Capability.READ_USAGE),
    )
    return sims.filter(provider_id=provider_id) if provider_id is not None else sims


def sync_usage(*, provider_id: int | None = None, batch_size: int | None = None, now=None) -> dict:
    """Read and store usage for due SIMs; returns counts of synced, deferred and errors.

    When a provider's budget for the current minute is used up, its remaining SIMs are left for
    the next run (counted as deferred); other providers carry on. Provider errors skip the SIM.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.USAGE_SYNC_BATCH_SIZE
    counts = {"synced": 0, "deferred": 0, "errors": 0}
    exhausted: set[int] = set()
    failed: list[int] = []
    adapters: dict[int, object] = {}
    claims, claimed = [], 0
    try:
        while batch := _claim_batch(claims, now, provider_id, exhausted, batch_size):
            claimed += len(batch)
            readings = []
            for sim in batch:
                if sim.provider_id in exhausted:
                    continue
                if not take_rate_budget(sim.provider_id):
                    exhausted.add(sim.provider_id)
                    continue
                usage = _read(sim, adapters)
                if usage is None:
                    failed.append(sim.pk)
                else:
                    readings.append((sim, usage))
            counts["synced"] += _record_batch(readings)
    finally:  # SIMs not written (errors, rate limit, time up): the next run reads them
        if claimed > counts["synced"]:
            Sim.objects.filter(usage_sync_claim__in=claims).update(
                usage_sync_claim=None, usage_sync_claimed_until=None
            )
    counts["errors"] = len(failed)
    if exhausted:
        counts["deferred"] = (
            due_sims(now, provider_id)
            .filter(provider_id__in=exhausted)
            .exclude(pk__in=failed)
            .count()
        )
        logger.info("usage sync: rate limit reached for providers %s", sorted(exhausted))
    return counts


def take_rate_budget(provider_id: int) -> bool:
    """Count one call against the provider's budget for this minute; False once it is used up."""
    key = f"usage-sync:rate:{provider_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 0, timeout=120)
        used = cache.incr(key)
    return used <= settings.USAGE_SYNC_RATE_PER_MINUTE


def apply_usage(sim: Sim, usage: Usage, *, actor_label: str = ACTOR_LABEL) -> bool:
    """Store one reading under the row lock; False if it is older than what we have."""
    with transaction.atomic():
        locked = Sim.objects.select_for_update().get(pk=sim.pk)
        if locked.status not in SYNCED_STATES or _is_stale(locked, usage):
            return False
        _set_usage(locked, usage)
        locked.save(update_fields=[*USAGE_FIELDS, "updated_at"])
    _apply_status(locked, usage, actor_label)
    return True


def _claim_batch(claims: list, now, provider_id, exhausted: set[int], batch_size: int) -> list[Sim]:
    """Claim up to ``batch_size`` due SIMs that no run holds, in ``ORDER``, under a new claim id
    added to ``claims``; return them.

    The claim is one UPDATE whose own condition excludes held rows: on PostgreSQL a run that meets
    a row another run is claiming waits for it and re-checks the row, so each SIM has one claim.
    """
    unclaimed = Q(usage_sync_claimed_until__isnull=True) | Q(usage_sync_claimed_until__lte=now)
    due = due_sims(now, provider_id).filter(unclaimed).exclude(provider_id__in=exhausted)
    picked = due.order_by(*ORDER).values("pk")[:batch_size]
    claim = uuid.uuid4()
    if not Sim.objects.filter(unclaimed, pk__in=picked).update(
        usage_sync_claim=claim, usage_sync_claimed_until=now + CLAIM_LEASE
    ):
        return []
    claims.append(claim)
    return list(
        Sim.objects.filter(usage_sync_claim=claim).select_related("provider").order_by(*ORDER)
    )


def _read(sim: Sim, adapters: dict) -> Usage | None:
    """The upstream's reading for ``sim`` (no lock held), or None after logging the error."""
    try:
        if sim.provider_id not in adapters:
            adapters[sim.provider_id] = get_adapter(sim.provider, needs=Capability.READ_USAGE)
        return adapters[sim.provider_id].read_usage(iccid=sim.iccid)
    except TransientProviderError as exc:
        logger.info("usage sync: SIM %s skipped, transient error: %s", sim.pk, exc.summary)
    except PermanentProviderError as exc:
        logger.warning("usage sync: SIM %s skipped, permanent error: %s", sim.pk, exc.summary)
    except SoftTimeLimitExceeded:  # the run's time is up: stop, not skip
        raise
    except Exception:
        logger.exception("usage sync: SIM %s skipped, unexpected error", sim.pk)
    return None


def _record_batch(readings: list[tuple[Sim, Usage]]) -> int:
    """Lock the batch, drop rows that changed meanwhile, write the rest in one statement."""
    if not readings:
        return 0
    by_pk = {sim.pk: usage for sim, usage in readings}
    written = []
    now = timezone.now()
    with transaction.atomic():
        locked = Sim.objects.select_for_update().filter(pk__in=by_pk, status__in=SYNCED_STATES)
        for sim in locked.order_by("pk"):
            if _is_stale(sim, by_pk[sim.pk]):
                continue
            _set_usage(sim, by_pk[sim.pk])
            sim.usage_sync_claim = sim.usage_sync_claimed_until = None
            sim.updated_at = now
            written.append(sim)
        Sim.objects.bulk_update(written, [*USAGE_FIELDS, *CLAIM_FIELDS, "updated_at"])
    for sim in written:
        _apply_status(sim, by_pk[sim.pk], ACTOR_LABEL)
    return len(written)


def _is_stale(sim: Sim, usage: Usage) -> bool:
    return sim.usage_synced_at is not None and usage.as_of <= sim.usage_synced_at


def _set_usage(sim: Sim, usage: Usage) -> None:
    """Copy the reading onto ``sim``, clamped so that remaining <= total (the DB constraint)."""
    total = None if usage.data_total_mb is None else max(usage.data_total_mb, 0)
    remaining = usage.data_remaining_mb
    if remaining is not None:
        remaining = None if total is None else min(max(remaining, 0), total)
    sim.data_total_mb = total
    sim.data_remaining_mb = remaining
    if usage.expires_at is not None:
        sim.expires_at = usage.expires_at
    sim.usage_synced_at = usage.as_of


def target_status(sim: Sim, usage: Usage) -> str | None:
    """The status a reading implies for ``sim`` (already stored), or None for no change."""
    if sim.status not in SYNCED_STATES:
        return None
    if usage.status == "expired" or (sim.expires_at and sim.expires_at <= usage.as_of):
        target = Status.EXPIRED
    elif usage.status == "active" or (sim.status == Status.ISSUED and _data_used(usage)):
        target = Status.ACTIVE
    else:
        return None
    return None if target == sim.status else target


def _data_used(usage: Usage) -> bool:
    total, remaining = usage.data_total_mb, usage.data_remaining_mb
    return total is not None and remaining is not None and remaining < total


def _apply_status(sim: Sim, usage: Usage, actor_label: str) -> None:
    target = target_status(sim, usage)
    if target is None:
        return
    try:
        transition(sim, target, actor_label=actor_label, note=f"upstream status {usage.status}")
    except IllegalTransition as exc:  # the SIM was replaced or cancelled meanwhile
        logger.info("usage sync: SIM %s status left alone: %s", sim.pk, exc)


def build_sandbox_callback(
    sim: Sim, *, event_id: str, usage: Usage | None = None, secret: str | None = None
) -> tuple[bytes, dict]:
    """A signed ``usage.updated`` callback as the sandbox sends it: (raw body, headers)."""
    usage = usage or get_adapter(sim.provider, needs=Capability.READ_USAGE).read_usage(
        iccid=sim.iccid
    )
    return sandbox_callback.build(
        sim.provider, event_id=event_id, iccid=sim.iccid, usage=usage, secret=secret
    )
