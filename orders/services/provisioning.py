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
from django.db.models import Max
from django.utils import timezone

from accounts import webhooks
from orders.models import Order, ProvisioningAttempt, Sim
from orders.services import effects
from plans.providers import get_adapter
from plans.providers.base import PermanentProviderError, TransientProviderError
from portal import audit
from portal.state import transition

Outcome = ProvisioningAttempt.Outcome
OPERATION_FOR_KIND = {
    Order.Kind.PURCHASE: ProvisioningAttempt.Operation.ISSUE,
    Order.Kind.REPLACEMENT: ProvisioningAttempt.Operation.ISSUE,
    Order.Kind.RENEWAL: ProvisioningAttempt.Operation.RENEW,
    Order.Kind.RECHARGE: ProvisioningAttempt.Operation.RECHARGE,
}


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
        results = effects.call_upstream(get_adapter(attempt.provider), order)
    except TransientProviderError as exc:
        return _record_failure(attempt, Outcome.TRANSIENT_ERROR, exc.summary, reraise=exc)
    except PermanentProviderError as exc:
        return _record_failure(attempt, Outcome.PERMANENT_ERROR, exc.summary)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        attempt.refresh_from_db()
        changes = {"finished_at": timezone.now(), "response_summary": _summary(results)}
        if attempt.outcome == Outcome.IN_PROGRESS:
            transition(attempt, Outcome.SUCCEEDED, field="outcome", changes=changes)
        if order.status == Order.Status.REFUNDED:
            _record_after_refund(order, results)
            return order.status
        if order.status != Order.Status.PROVISIONING:
            return order.status
        upstream_reference = effects.apply(order, results)
        transition(
            order,
            Order.Status.FULFILLED,
            actor_label="worker",
            changes={"fulfilled_at": timezone.now(), "upstream_reference": upstream_reference},
        )
        if order.customer_id:
            from orders import tasks

            tasks.send_order_ready_email.delay_on_commit(order.pk)
        webhooks.emit_order_event(order)  # order.fulfilled, partner orders only
    return Order.Status.FULFILLED


def _record_after_refund(order: Order, results: list) -> None:
    """The order was refunded while the upstream worked: keep what it issued, then undo it."""
    from orders import tasks

    effects.apply(order, results)
    audit.record(
        action="order.refunded_during_provisioning",
        target=order,
        actor_label="worker",
        note="Refunded while provisioning; the upstream's result is recorded and its eSIMs "
        "are cancelled.",
    )
    if order.kind == Order.Kind.PURCHASE:
        tasks.cancel_refunded_sims.delay_on_commit(order.pk)


def _claim(order_id: int) -> ProvisioningAttempt | None:
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("plan__provider").get(pk=order_id)
        if order.status not in (Order.Status.PAID, Order.Status.PROVISIONING):
            return None
        live = order.provisioning_attempts.filter(outcome=Outcome.IN_PROGRESS).first()
        if live is not None:
            age = (timezone.now() - live.started_at).total_seconds()
            if age < settings.PROVISIONING_LEASE_SECONDS:
                raise ProvisioningBusy(settings.PROVISIONING_LEASE_SECONDS - age)
            transition(
                live,
                Outcome.TRANSIENT_ERROR,
                field="outcome",
                changes={
                    "finished_at": timezone.now(),
                    "error": "abandoned: no result within the lease",
                },
            )
        if order.status == Order.Status.PAID:
            transition(order, Order.Status.PROVISIONING, actor_label="worker")
        number = (order.provisioning_attempts.aggregate(n=Max("number"))["n"] or 0) + 1
        return ProvisioningAttempt.objects.create(
            order=order,
            number=number,
            provider=order.plan.provider,
            operation=OPERATION_FOR_KIND[order.kind],
            reference=order.provider_reference,
            request_summary=effects.request_summary(order),
        )


def _record_failure(attempt, outcome, summary, reraise=None) -> str:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=attempt.order_id)
        attempt.refresh_from_db()
        if attempt.outcome == Outcome.IN_PROGRESS:
            transition(
                attempt,
                outcome,
                field="outcome",
                changes={"finished_at": timezone.now(), "error": summary[:1000]},
            )
        # Top-ups of a replacement share the numbering but are not tries of the order itself.
        tries = order.provisioning_attempts.exclude(operation=ProvisioningAttempt.Operation.TOP_UP)
        give_up = outcome == Outcome.PERMANENT_ERROR or (
            tries.count() >= settings.PROVISIONING_MAX_ATTEMPTS
        )
        if give_up and order.status == Order.Status.PROVISIONING:
            transition(order, Order.Status.NEEDS_ATTENTION, actor_label="worker", note=summary)
            webhooks.emit_order_event(order)  # order.failed, partner orders only
            return Order.Status.NEEDS_ATTENTION
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
        transition(locked, Order.Status.PROVISIONING, actor=actor, note="retry by staff")
        tasks.provision_order.delay_on_commit(locked.pk)
    order.refresh_from_db()


def stuck_orders(now=None):
    """Orders whose provisioning stopped half-way: paid but not started, or no live attempt."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    lease_start = now - timedelta(seconds=settings.PROVISIONING_LEASE_SECONDS)
    paid = Order.objects.filter(status=Order.Status.PAID, updated_at__lt=quiet_since)
    provisioning = Order.objects.filter(
        status=Order.Status.PROVISIONING, updated_at__lt=quiet_since
    ).exclude(
        provisioning_attempts__outcome=Outcome.IN_PROGRESS,
        provisioning_attempts__started_at__gte=lease_start,
    )
    return (paid | provisioning).values_list("pk", flat=True)


def cancel_replaced_profile(sim_id: int) -> None:
    """Cancel a replaced SIM's profile upstream (safe to repeat: our reference is stable)."""
    sim = Sim.objects.select_related("provider").get(pk=sim_id)
    if sim.status != Sim.Status.REPLACED or sim.provider is None:
        return
    get_adapter(sim.provider).cancel(reference=sim.provider_reference, iccid=sim.iccid)
    audit.record(action="sim.cancelled_upstream", target=sim, actor_label="worker")


CANCELLABLE_SIM_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}


def cancel_refunded_sims(order_id: int) -> int:
    """Cancel upstream, then mark cancelled, the eSIMs of a fully refunded purchase.

    Safe to repeat (the upstream cancel is idempotent on our reference). A provider that refuses
    for good leaves the SIM as it is and a note on the order for staff; a transient error is
    raised for a retry. Returns how many SIMs were cancelled.
    """
    order = Order.objects.get(pk=order_id)
    if order.status != Order.Status.REFUNDED or order.kind != Order.Kind.PURCHASE:
        return 0
    cancelled = 0
    sims = order.issued_sims.select_related("provider").filter(status__in=CANCELLABLE_SIM_STATES)
    for sim in sims:
        try:
            if sim.provider is not None:
                get_adapter(sim.provider).cancel(reference=sim.provider_reference, iccid=sim.iccid)
        except PermanentProviderError as exc:
            audit.record(
                action="sim.cancel_failed",
                target=order,
                actor_label="worker",
                note=f"eSIM …{sim.iccid[-6:]} of a refunded order could not be cancelled "
                f"upstream; cancel it with the provider: {exc.summary}",
            )
            continue
        transition(sim, Sim.Status.CANCELLED, actor_label="worker", note=f"order {order} refunded")
        audit.record(action="sim.cancelled_upstream", target=sim, actor_label="worker")
        cancelled += 1
    return cancelled
