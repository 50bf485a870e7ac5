"""Provisioning a paid order through its plan's provider.

Never holds a row lock across the upstream call (ARCHITECTURE.md, rule 4): claim the order and
record an in-progress attempt, commit; call the upstream with our order reference; lock again,
re-check and record the result. The upstream call is idempotent on our reference, so a retry or
a second worker taking over an abandoned attempt never buys a second profile.
"""

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from core import audit, dispatch
from core.compiled import ScopedRows
from core.state import transition, transition_if
from orders.models import Order, ProvisioningAttempt, Sim
from orders.partner_webhooks import services as partner_webhooks
from orders.services import effects
from plans.providers import Capability, get_adapter
from plans.providers.base import PermanentProviderError, TransientProviderError

Outcome = ProvisioningAttempt.Outcome
OPERATION_FOR_KIND = {
    Order.Kind.PURCHASE: ProvisioningAttempt.Operation.ISSUE,
    Order.Kind.REPLACEMENT: ProvisioningAttempt.Operation.ISSUE,
    Order.Kind.RENEWAL: ProvisioningAttempt.Operation.RENEW,
    Order.Kind.RECHARGE: ProvisioningAttempt.Operation.RECHARGE,
}


MAX_RETRY_DELAY_SECONDS = 60 * 60


class ProvisioningBusy(Exception):
    """Another worker holds a live attempt for this order."""

    def __init__(self, retry_in: float):
        super().__init__(f"busy; retry in {retry_in:.0f} s")
        self.retry_in = retry_in


def provision_order(order_id: int) -> str:
    """Run one provisioning attempt; returns the order's resulting status.

    Raises TransientProviderError when a later retry may succeed, ProvisioningBusy when another
    worker is on it.
    """
    attempt = _claim(order_id)
    if attempt is None:
        return Order.objects.values_list("status", flat=True).get(pk=order_id)
    order = attempt.order
    try:
        adapter = get_adapter(attempt.provider, needs=effects.CAPABILITY_FOR_ORDER[order.kind])
        results = effects.call_upstream(adapter, order)
    except TransientProviderError as exc:
        return _record_failure(attempt, Outcome.TRANSIENT_ERROR, exc.summary, reraise=exc)
    except PermanentProviderError as exc:
        return _record_failure(attempt, Outcome.PERMANENT_ERROR, exc.summary)
    with transaction.atomic(), audit.batched():
        order = attempt.order = _lock_order(order_id)
        changes = {"finished_at": timezone.now(), "response_summary": _summary(results)}
        _finish(attempt, Outcome.SUCCEEDED, changes)
        if order.status == Order.Status.REFUNDED:
            _record_after_refund(order, results)
            return order.status
        if order.status != Order.Status.PROVISIONING:
            return order.status
        recorded = effects.apply(order, results)
        transition(
            order,
            Order.Status.FULFILLED,
            actor_label="worker",
            changes={"fulfilled_at": timezone.now(), **recorded, "next_attempt_at": None},
            held=True,
        )
        if order.customer_id:
            from orders import tasks

            tasks.send_order_ready_email.delay_on_commit(order.pk)
        partner_webhooks.emit_order_event(order)  # order.fulfilled, partner orders only
    return Order.Status.FULFILLED


# The rows provisioning locks by key, their SQL compiled once per process (core.compiled).
ORDER_TO_CLAIM = ScopedRows(
    Order,
    lambda pk: (
        Order.objects.select_for_update(of=("self",)).select_related("plan__provider").filter(pk=pk)
    ),
)
ORDER_TO_RECORD = ScopedRows(
    Order,
    lambda pk: Order.objects.select_for_update(of=("self",)).select_related("plan").filter(pk=pk),
)


def _lock_order(order_id: int) -> Order:
    """The order under its lock, with its plan (not locked) for what is recorded."""
    return ORDER_TO_RECORD.get(order_id)


def _finish(attempt: ProvisioningAttempt, outcome: str, changes: dict) -> None:
    """The attempt's outcome, unless it has one already (a worker that took the order over
    after this attempt's lease ended gave it one). Its every change happens under its order's
    lock, which the caller holds."""
    transition_if(attempt, Outcome.IN_PROGRESS, outcome, field="outcome", changes=changes)


def _record_after_refund(order: Order, results: list) -> None:
    """The order was refunded while the upstream worked: keep what it issued, then undo it."""
    effects.apply(order, results)
    audit.record(
        action="order.refunded_during_provisioning",
        target=order,
        actor_label="worker",
        note="Refunded while provisioning; the upstream's result is recorded and its eSIMs "
        "are cancelled.",
    )
    schedule_undo(order)


def schedule_undo(order: Order) -> None:
    """A fully refunded purchase: its eSIMs are cancelled by a worker, now and until done."""
    from orders import tasks

    if order.kind != Order.Kind.PURCHASE:
        return
    _schedule(order.pk, timezone.now() + dispatch_lease())
    tasks.cancel_refunded_sims.delay_on_commit(order.pk)


def _schedule(order_id: int, at) -> None:
    """When a worker is next due to act on the order (None: nothing is due)."""
    Order.objects.filter(pk=order_id).update(next_attempt_at=at)


def dispatch_lease() -> timedelta:
    """How long a sent task has to start before the dispatcher sends it again."""
    return timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)


def retry_delay(tries: int, retry_after: float | None = None) -> timedelta:
    """Back-off after the ``tries``-th failed try: doubling from the base, at most an hour."""
    seconds = settings.PROVISIONING_RETRY_BASE_SECONDS * 2 ** max(tries - 1, 0)
    return timedelta(seconds=min(max(seconds, retry_after or 0), MAX_RETRY_DELAY_SECONDS))


def _claim(order_id: int) -> ProvisioningAttempt | None:
    busy_for = None
    with transaction.atomic():
        order = ORDER_TO_CLAIM.get(order_id)
        if order.status not in (Order.Status.PAID, Order.Status.PROVISIONING):
            return None
        now = timezone.now()
        lease = timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)
        tries = _tries(order)
        live = tries["live"] and ProvisioningAttempt.objects.get(pk=tries["live"])
        if live and now - live.started_at < lease:
            busy_for = (live.started_at + lease - now).total_seconds()
            _schedule(order.pk, live.started_at + lease)  # looked at again when the lease ends
        else:
            if live:
                transition(
                    live,
                    Outcome.TRANSIENT_ERROR,
                    field="outcome",
                    changes={"finished_at": now, "error": "abandoned: no result within the lease"},
                )
            # If this worker dies during the call, the order is due again when the lease ends.
            due_again = {"next_attempt_at": now + lease}
            if order.status == Order.Status.PAID:
                transition(
                    order,
                    Order.Status.PROVISIONING,
                    actor_label="worker",
                    changes=due_again,
                    held=True,
                )
            else:
                _schedule(order.pk, due_again["next_attempt_at"])
            return ProvisioningAttempt.objects.create(
                order=order,
                number=(tries["last"] or 0) + 1,
                provider=order.plan.provider,
                operation=OPERATION_FOR_KIND[order.kind],
                reference=order.provider_reference,
                request_summary=effects.request_summary(order),
            )
    raise ProvisioningBusy(busy_for)


def _tries(order: Order) -> dict:
    """The order's last attempt number and its live attempt's id (None when none). A paid order
    has none: its first attempt is created with its move to provisioning, and no state leads
    back to paid (a broken rule would collide on the attempt number's unique constraint)."""
    if order.status == Order.Status.PAID:
        return {"last": None, "live": None}
    return order.provisioning_attempts.aggregate(
        last=Max("number"), live=Min("pk", filter=Q(outcome=Outcome.IN_PROGRESS))
    )


def _record_failure(attempt, outcome, summary, reraise=None) -> str:
    with transaction.atomic():
        order = attempt.order = _lock_order(attempt.order_id)
        _finish(attempt, outcome, {"finished_at": timezone.now(), "error": summary[:1000]})
        # Top-ups of a replacement share the numbering but are not tries of the order itself.
        tries = order.provisioning_attempts.exclude(operation=ProvisioningAttempt.Operation.TOP_UP)
        give_up = outcome == Outcome.PERMANENT_ERROR or (
            tries.count() >= settings.PROVISIONING_MAX_ATTEMPTS
        )
        if give_up and order.status == Order.Status.PROVISIONING:
            transition(
                order,
                Order.Status.NEEDS_ATTENTION,
                actor_label="worker",
                note=summary,
                changes={"next_attempt_at": None},
                held=True,
            )
            partner_webhooks.emit_order_event(order)  # order.failed, partner orders only
            return Order.Status.NEEDS_ATTENTION
        if not give_up and order.status == Order.Status.PROVISIONING:
            retry_after = getattr(reraise, "retry_after", None)
            _schedule(order.pk, timezone.now() + retry_delay(tries.count(), retry_after))
    if reraise is not None and not give_up:
        raise reraise
    return order.status


def _summary(results) -> str:
    return "; ".join(
        ", ".join(f"{k}={v}" for k, v in asdict(r).items() if k != "activation_code")
        for r in results
    )[:2000]


def retry_provisioning(*, order: Order, actor) -> None:
    """Staff: put an order that needs attention back through provisioning."""
    from orders import tasks

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        transition(
            locked,
            Order.Status.PROVISIONING,
            actor=actor,
            note="retry by staff",
            changes={"next_attempt_at": timezone.now() + dispatch_lease()},
        )
        tasks.provision_order.delay_on_commit(locked.pk)
    order.refresh_from_db()


WORKER_STATES = (Order.Status.PAID, Order.Status.PROVISIONING, Order.Status.REFUNDED)


def due_orders(now=None):
    """Orders a worker is due to act on: provisioning (or, refunded, undoing) whose next attempt
    time has come."""
    now = now or timezone.now()
    return Order.objects.filter(status__in=WORKER_STATES, next_attempt_at__lte=now)


def dispatch_due(now=None, limit: int = dispatch.BATCH) -> int:
    """Send due orders to workers; each is due again after the dispatch lease unless a worker
    takes it (rows another dispatcher holds are skipped). Returns how many were sent."""
    from orders import tasks

    def send(pk: int, status: str) -> None:
        task = tasks.cancel_refunded_sims if status == Order.Status.REFUNDED else None
        (task or tasks.provision_order).delay_on_commit(pk)

    now = now or timezone.now()
    lease = {"next_attempt_at": now + dispatch_lease()}
    due = due_orders(now)
    return dispatch.hand_out_due(due, lease=lease, send=send, columns=("pk", "status"), limit=limit)


def stuck_orders(now=None):
    """Paid or provisioning orders with no next attempt time (set before retries were kept
    here, or by a path that forgot): made due now by the reconciler."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    return Order.objects.filter(
        status__in=(Order.Status.PAID, Order.Status.PROVISIONING),
        next_attempt_at__isnull=True,
        updated_at__lt=quiet_since,
    ).values_list("pk", flat=True)


def cancel_replaced_profile(sim_id: int) -> None:
    """Cancel a replaced SIM's profile upstream (safe to repeat: our reference is stable)."""
    sim = Sim.objects.select_related("provider").get(pk=sim_id)
    if sim.status != Sim.Status.REPLACED or sim.provider is None:
        return
    adapter = get_adapter(sim.provider, needs=Capability.CANCEL)
    adapter.cancel(reference=sim.provider_reference, iccid=sim.iccid)
    audit.record(action="sim.cancelled_upstream", target=sim, actor_label="worker")


CANCELLABLE_SIM_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}
UNDO_FOR = timedelta(days=1)  # how long a refunded purchase's eSIM cancel is retried


def cancel_refunded_sims(order_id: int) -> int:
    """Cancel upstream, then mark cancelled, the eSIMs of a fully refunded purchase.

    Safe to repeat (the upstream cancel is idempotent on our reference). A transient error makes
    the order due again after a back-off, for up to a day after the refund; a provider that
    refuses for good, or that day passing, leaves the SIM as it is and a note on the order for
    staff. Returns how many SIMs were cancelled.
    """
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.REFUNDED or order.kind != Order.Kind.PURCHASE:
        return 0
    cancelled, retry = 0, False
    sims = order.issued_sims.select_related("provider").filter(status__in=CANCELLABLE_SIM_STATES)
    for sim in sims:
        try:
            if sim.provider is not None:
                adapter = get_adapter(sim.provider, needs=Capability.CANCEL)
                adapter.cancel(reference=sim.provider_reference, iccid=sim.iccid)
        except TransientProviderError as exc:
            retry = timezone.now() - order.updated_at < UNDO_FOR
            if not retry:
                _note_not_cancelled(order, sim, f"still failing a day later: {exc.summary}")
            continue
        except PermanentProviderError as exc:
            _note_not_cancelled(order, sim, exc.summary)
            continue
        transition(sim, Sim.Status.CANCELLED, actor_label="worker", note=f"order {order} refunded")
        audit.record(action="sim.cancelled_upstream", target=sim, actor_label="worker")
        cancelled += 1
    tries = audit.entries_for(order).filter(action="sim.cancel_retry").count() + 1
    if retry:
        audit.record(action="sim.cancel_retry", target=order, actor_label="worker")
    _schedule(order.pk, timezone.now() + retry_delay(tries) if retry else None)
    return cancelled


def _note_not_cancelled(order: Order, sim: Sim, reason: str) -> None:
    audit.record(
        action="sim.cancel_failed",
        target=order,
        actor_label="worker",
        note=f"eSIM …{sim.iccid[-6:]} of a refunded order could not be cancelled upstream; "
        f"cancel it with the provider: {reason}",
    )
