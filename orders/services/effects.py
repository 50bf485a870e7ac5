"""What provisioning does upstream for each order kind, and what it changes here afterwards.

Renewal rule: validity is added from the later of now and the current expiry; the plan's data is
added to what is left (an expired SIM starts again from the plan's data). A replacement carries
the old SIM's plan, expiry and remaining data over to the new profile for the same number.
"""

from datetime import timedelta

from django.utils import timezone

from orders.models import Order, ReplacementTicket, Sim
from plans.providers.base import IssuedProfile, RenewalResult
from portal.state import transition


def unit_reference(order: Order, unit: int) -> str:
    """Our reference for one unit of an order (one eSIM of a multi-eSIM purchase)."""
    return order.provider_reference if unit == 1 else f"{order.provider_reference}-{unit}"


def request_summary(order: Order) -> str:
    """A short, log-safe description of what we ask the upstream for."""
    target = order.recharge_msisdn[:-4] + "****" if order.recharge_msisdn else ""
    parts = [f"kind={order.kind}", f"sku={order.plan.provider_sku}", f"qty={order.quantity}"]
    if order.sim_id:
        parts.append(f"iccid=…{order.sim.iccid[-6:]}")
    if target:
        parts.append(f"msisdn={target}")
    return ", ".join(parts)


def call_upstream(adapter, order: Order) -> list:
    """Make the upstream calls for ``order`` (idempotent on our references)."""
    sku = order.plan.provider_sku
    if order.kind == Order.Kind.PURCHASE:
        return [
            adapter.issue_esim(reference=unit_reference(order, unit), plan_sku=sku)
            for unit in range(1, order.quantity + 1)
        ]
    if order.kind == Order.Kind.REPLACEMENT:
        current = order.sim.current_plan
        if current is not None and current.provider_id == order.plan.provider_id:
            sku = current.provider_sku  # the same package on the new profile
        return [
            adapter.issue_esim(
                reference=order.provider_reference, plan_sku=sku, msisdn=order.sim.msisdn
            )
        ]
    if order.kind == Order.Kind.RENEWAL:
        return [
            adapter.renew(reference=order.provider_reference, iccid=order.sim.iccid, plan_sku=sku)
        ]
    return [
        adapter.recharge(
            reference=order.provider_reference,
            msisdn=order.recharge_msisdn,
            operator_code=order.recharge_operator.code,
            plan_sku=sku,
            amount=order.plan.airtime_amount or order.total,
            currency="PKR",
        )
    ]


def apply(order: Order, results: list) -> str:
    """Record the upstream results here; returns the upstream reference to keep on the order."""
    if order.kind == Order.Kind.PURCHASE:
        for unit, profile in enumerate(results, 1):
            _new_sim(order, profile, unit_reference(order, unit))
    elif order.kind == Order.Kind.REPLACEMENT:
        _replace(order, results[0])
    elif order.kind == Order.Kind.RENEWAL:
        _renew(order, results[0])
    return ", ".join(result.upstream_reference for result in results)[:100]


def _new_sim(order: Order, profile: IssuedProfile, reference: str, **overrides) -> Sim:
    plan = order.plan
    fields = {
        "iccid": profile.iccid,
        "msisdn": profile.msisdn,
        "operator_id": plan.operator_id,
        "provider_id": plan.provider_id,
        "provider_reference": reference,
        "owner_id": order.customer_id,
        "partner_id": order.partner_id,
        "issued_by_order": order,
        "activation_code": profile.activation_code,
        "confirmation_code": profile.confirmation_code,
        "current_plan": plan,
        "data_total_mb": profile.data_total_mb,
        "data_remaining_mb": profile.data_total_mb,
        "expires_at": profile.expires_at or timezone.now() + timedelta(days=plan.validity_days),
    }
    fields.update(overrides)
    sim, _ = Sim.objects.get_or_create(iccid=profile.iccid, defaults=fields)
    return sim


def _renew(order: Order, result: RenewalResult) -> None:
    """Our renewal rule (module docstring); usage sync later reconciles with the upstream."""
    sim = Sim.objects.select_for_update().get(pk=order.sim_id)
    plan = order.plan
    now = timezone.now()
    expired = sim.expires_at is None or sim.expires_at <= now
    start = now if expired else sim.expires_at
    sim.expires_at = start + timedelta(days=plan.validity_days)
    if plan.data_unlimited:
        sim.data_total_mb = sim.data_remaining_mb = None
    elif plan.data_mb:
        left = 0 if expired else (sim.data_remaining_mb or 0)
        sim.data_remaining_mb = left + plan.data_mb
        sim.data_total_mb = (
            sim.data_remaining_mb if expired else ((sim.data_total_mb or 0) + plan.data_mb)
        )
    sim.current_plan = plan
    sim.save(
        update_fields=[
            "expires_at",
            "data_total_mb",
            "data_remaining_mb",
            "current_plan",
            "updated_at",
        ]
    )
    if sim.status == Sim.Status.EXPIRED:
        transition(sim, Sim.Status.ACTIVE, actor_label="worker", note=f"renewed by {order}")


def _replace(order: Order, profile: IssuedProfile) -> None:
    old = Sim.objects.select_for_update().get(pk=order.sim_id)
    new = _new_sim(
        order,
        profile,
        order.provider_reference,
        msisdn=old.msisdn or profile.msisdn,
        current_plan=old.current_plan,
        data_total_mb=old.data_total_mb,
        data_remaining_mb=old.data_remaining_mb,
        expires_at=old.expires_at,
        owner_id=old.owner_id,
        partner_id=old.partner_id,
    )
    if old.status != Sim.Status.REPLACED:
        transition(
            old,
            Sim.Status.REPLACED,
            actor_label="worker",
            changes={"replaced_by": new},
            note=f"replaced by {order}",
        )
        from orders import tasks

        tasks.cancel_replaced_profile.delay_on_commit(old.pk)
    ticket = ReplacementTicket.objects.select_for_update().filter(order=order).first()
    if ticket is not None and ticket.status == ReplacementTicket.Status.APPROVED:
        transition(
            ticket, ReplacementTicket.Status.ISSUED, actor_label="worker", changes={"new_sim": new}
        )
