"""What provisioning does upstream for each order kind, and what it changes here afterwards.

Renewal rule: validity is added from the later of now and the current expiry; the plan's data is
added to what is left (an expired SIM starts again from the plan's data).

Replacement rule: the new profile for the same number keeps the old SIM's plan, its data left
(unlimited stays unlimited) and its expiry, never less than the package itself gives. The
upstream issues the package; what the old SIM had beyond it is topped up at our cost
(``TopsUpEsims.top_up``, idempotent on ``<order reference>-topup``, one ``TOP_UP``
provisioning attempt per try, an audit entry on the order with the amounts). The new SIM shows
what the upstream really has, so the next usage sync agrees with it. When the provider cannot
top up (or refuses), the replacement is still issued with the package alone and the order gets
an audit entry for staff saying what is missing.
"""

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import audit
from core.state import transition
from orders.models import Order, ProvisioningAttempt, ReplacementTicket, Sim
from plans.providers import Capability
from plans.providers.base import (
    IssuedProfile,
    PermanentProviderError,
    ProviderError,
    RenewalResult,
    TopUpResult,
    TransientProviderError,
)

TOP_UP_ACTION = "replacement.topped_up_at_our_cost"
SHORTFALL_ACTION = "replacement.carry_over_short"
Outcome = ProvisioningAttempt.Outcome


@dataclass(frozen=True)
class Owed:
    """What a replacement's new profile lacks of the old SIM's promise: data to add, a time to
    keep it valid until (None: it already lasts long enough), and whether the old SIM was
    unlimited while the new profile is not (which no top-up can say)."""

    data_mb: int = 0
    valid_until: datetime | None = None
    unlimited: bool = False


@dataclass(frozen=True)
class CarryOver:
    """A replacement's promise and what the new profile has upstream (after any top-up).

    ``data_mb`` None: unlimited. ``top_up_reference``: the upstream's id of the top-up made at
    our cost ("" when none); ``shortfall``: why the profile has less than promised ("" when it
    has it all).
    """

    promised_data_mb: int | None
    promised_until: datetime | None
    data_mb: int | None
    expires_at: datetime | None
    data_added_mb: int = 0
    top_up_reference: str = ""
    shortfall: str = ""


def unit_reference(order: Order, unit: int) -> str:
    """Our reference for one unit of an order (one eSIM of a multi-eSIM purchase)."""
    return order.provider_reference if unit == 1 else f"{order.provider_reference}-{unit}"


def top_up_reference(order: Order) -> str:
    """Our reference for the top-up of a replacement's new profile (stable across retries)."""
    return f"{order.provider_reference}-topup"


def request_summary(order: Order) -> str:
    """A short, log-safe description of what we ask the upstream for."""
    target = order.recharge_msisdn[:-4] + "****" if order.recharge_msisdn else ""
    parts = [f"kind={order.kind}", f"sku={order.plan.provider_sku}", f"qty={order.quantity}"]
    if order.sim_id:
        parts.append(f"iccid=…{order.sim.iccid[-6:]}")
    if target:
        parts.append(f"msisdn={target}")
    return ", ".join(parts)


CAPABILITY_FOR_ORDER = {
    Order.Kind.PURCHASE: Capability.ISSUE_ESIM,
    Order.Kind.REPLACEMENT: Capability.ISSUE_ESIM,
    Order.Kind.RENEWAL: Capability.RENEW,
    Order.Kind.RECHARGE: Capability.RECHARGE,
}


def call_upstream(adapter, order: Order) -> list:
    """Make the upstream calls for ``order`` (idempotent on our references)."""
    sku = order.plan.provider_sku
    if order.kind == Order.Kind.PURCHASE:
        return [
            adapter.issue_esim(reference=unit_reference(order, unit), plan_sku=sku)
            for unit in range(1, order.quantity + 1)
        ]
    if order.kind == Order.Kind.REPLACEMENT:
        old = Sim.objects.select_related("current_plan").get(pk=order.sim_id)  # usage as of now
        package = _replacement_package(order, old)
        profile = adapter.issue_esim(
            reference=order.provider_reference, plan_sku=package.provider_sku, msisdn=old.msisdn
        )
        return [profile, _carry_over(adapter, order, old, package, profile)]
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


def apply(order: Order, results: list) -> dict:
    """Record the upstream results here; returns what the order keeps of them with its
    fulfilment: the upstream reference and the ICCIDs of the SIMs it issued."""
    kind = order.kind
    if kind == Order.Kind.PURCHASE:
        _new_sims(order, results)
    elif kind == Order.Kind.REPLACEMENT:
        _replace(order, results[0], results[1] if len(results) > 1 else None)
        results = results[:1]  # the second is the carry-over worked out, not an upstream result
    elif kind == Order.Kind.RENEWAL:
        _renew(order, results[0])
    issued = results if kind in (Order.Kind.PURCHASE, Order.Kind.REPLACEMENT) else []
    return {
        "upstream_reference": ", ".join(result.upstream_reference for result in results)[:100],
        "issued_iccids": " ".join(profile.iccid for profile in issued),
    }


def _new_sims(order: Order, profiles: list[IssuedProfile]) -> None:
    """A purchase's eSIMs, each once: one whose ICCID is already recorded is left as it is
    (the insert skips it, so a second worker recording the same result writes nothing)."""
    sims = [
        Sim(**_sim_fields(order, profile, unit_reference(order, unit)))
        for unit, profile in enumerate(profiles, 1)
    ]
    Sim.insert_new(sims)


def _new_sim(order: Order, profile: IssuedProfile, reference: str, **overrides) -> Sim:
    fields = {**_sim_fields(order, profile, reference), **overrides}
    sim, _ = Sim.objects.get_or_create(iccid=profile.iccid, defaults=fields)
    return sim


def _sim_fields(order: Order, profile: IssuedProfile, reference: str) -> dict:
    plan = order.plan
    return {
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


def _replace(order: Order, profile: IssuedProfile, carry: CarryOver | None) -> None:
    """The new SIM for the line. An eSIM's old SIM is retired now; a physical SIM's new card
    goes by post, and its old SIM is retired only when the new one is activated
    (``orders.services.shipping``)."""
    old = Sim.objects.select_for_update().get(pk=order.sim_id)
    ticket = ReplacementTicket.objects.select_for_update().filter(order=order).first()
    by_post = ticket is not None and old.form == Sim.Form.PHYSICAL
    if carry is None:  # no carry-over worked out: the profile as issued
        expires_at = profile.expires_at or old.expires_at
        carry = CarryOver(old.data_remaining_mb, old.expires_at, profile.data_total_mb, expires_at)
    card = {"form": old.form, "activation_code": "", "confirmation_code": ""} if by_post else {}
    new = _new_sim(
        order,
        profile,
        order.provider_reference,
        msisdn=old.msisdn or profile.msisdn,
        current_plan=old.current_plan,
        data_total_mb=carry.data_mb,
        data_remaining_mb=carry.data_mb,
        expires_at=carry.expires_at,
        owner_id=old.owner_id,
        partner_id=old.partner_id,
        **card,
    )
    if by_post:
        if ticket.status == ReplacementTicket.Status.APPROVED:
            _record_carry_over(order, carry)
    elif old.status != Sim.Status.REPLACED:
        retire_replaced_sim(old, new, note=f"replaced by {order}", actor_label="worker")
        _record_carry_over(order, carry)
    if ticket is not None and ticket.status == ReplacementTicket.Status.APPROVED:
        transition(
            ticket,
            ReplacementTicket.Status.ISSUED,
            actor_label="worker",
            changes={"new_sim": new, "issued_at": timezone.now()},
        )


def retire_replaced_sim(old: Sim, new: Sim, *, note: str, actor=None, actor_label="") -> None:
    """Mark ``old`` replaced by ``new`` and cancel its profile upstream once committed."""
    transition(
        old,
        Sim.Status.REPLACED,
        actor=actor,
        actor_label=actor_label,
        changes={"replaced_by": new},
        note=note,
    )
    from orders import tasks

    tasks.cancel_replaced_profile.delay_on_commit(old.pk)


def _replacement_package(order: Order, old: Sim):
    """The plan issued on the new profile: the old SIM's own package when the provider sells it."""
    current = old.current_plan
    if current is not None and current.provider_id == order.plan.provider_id:
        return current
    return order.plan


def carry_over_owed(
    old: Sim, *, data_total_mb: int | None, expires_at: datetime | None, now: datetime
) -> Owed | None:
    """What a new profile (``data_total_mb``, ``expires_at``) lacks of ``old``'s promise.

    The promise: the old SIM's data left (unlimited stays unlimited) and its expiry. An expired
    SIM promises nothing beyond the package; more than promised is never taken away.
    """
    if old.expires_at is not None and old.expires_at <= now:
        return None
    data_mb = 0
    if old.data_remaining_mb is not None and data_total_mb is not None:
        data_mb = max(old.data_remaining_mb - data_total_mb, 0)
    later = old.expires_at and expires_at and old.expires_at > expires_at
    owed = Owed(
        data_mb=data_mb,
        valid_until=old.expires_at if later else None,
        unlimited=old.data_total_mb is None and data_total_mb is not None,
    )
    return owed if owed.data_mb or owed.valid_until or owed.unlimited else None


def _carry_over(adapter, order: Order, old: Sim, package, profile: IssuedProfile) -> CarryOver:
    """Top the new profile up to the old SIM's promise at our cost, where the provider can.

    Runs outside any transaction (the top-up is a network call). A transient top-up error is
    raised so the whole provisioning is retried (issue and top-up are idempotent on our
    references); a refusal or a provider without top-ups leaves a shortfall for staff.
    """
    now = timezone.now()
    given_until = profile.expires_at or (
        now + timedelta(days=package.validity_days) if package.validity_days else old.expires_at
    )
    carry = CarryOver(
        promised_data_mb=old.data_remaining_mb,
        promised_until=old.expires_at,
        data_mb=profile.data_total_mb,
        expires_at=given_until,
    )
    owed = carry_over_owed(
        old, data_total_mb=profile.data_total_mb, expires_at=given_until, now=now
    )
    if owed is None:
        return carry
    if not (owed.data_mb or owed.valid_until):
        return dataclasses.replace(carry, shortfall="a top-up cannot make data unlimited")
    if not adapter.offers(Capability.TOP_UP):
        return dataclasses.replace(
            carry, shortfall=f"{adapter.provider.name} cannot top up a profile"
        )
    try:
        result = _top_up(adapter, order, profile.iccid, owed)
    except PermanentProviderError as exc:
        return dataclasses.replace(carry, shortfall=f"the top-up was refused: {exc.summary}")
    data_mb = (
        None if profile.data_total_mb is None else profile.data_total_mb + result.data_added_mb
    )
    expires_at = result.expires_at or max(
        filter(None, (given_until, owed.valid_until)), default=None
    )
    missing = []
    if owed.unlimited:
        missing.append("a top-up cannot make data unlimited")
    if result.data_added_mb < owed.data_mb:
        missing.append(f"the provider added {result.data_added_mb} of {owed.data_mb} MB")
    if owed.valid_until and expires_at and expires_at < owed.valid_until:
        missing.append(f"the provider extended validity only until {_when(expires_at)}")
    return dataclasses.replace(
        carry,
        data_mb=data_mb,
        expires_at=expires_at,
        data_added_mb=result.data_added_mb,
        top_up_reference=result.upstream_reference,
        shortfall="; ".join(missing),
    )


def _top_up(adapter, order: Order, iccid: str, owed: Owed) -> TopUpResult:
    """One top-up call, recorded as a ``TOP_UP`` provisioning attempt (rule 4: no lock held)."""
    reference = top_up_reference(order)
    attempt = _start_top_up_attempt(
        order,
        adapter.provider,
        reference,
        f"top-up at our cost: iccid=…{iccid[-6:]}, data_mb={owed.data_mb}, "
        f"valid_until={owed.valid_until.isoformat() if owed.valid_until else '—'}",
    )
    try:
        result = adapter.top_up(
            reference=reference, iccid=iccid, data_mb=owed.data_mb, valid_until=owed.valid_until
        )
    except ProviderError as exc:
        transient = isinstance(exc, TransientProviderError)
        outcome = Outcome.TRANSIENT_ERROR if transient else Outcome.PERMANENT_ERROR
        _finish_top_up_attempt(attempt, outcome, error=exc.summary[:1000])
        if transient:
            raise TransientProviderError(
                f"top-up: {exc.summary}", retry_after=exc.retry_after
            ) from exc
        raise
    answer = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(result).items())
    _finish_top_up_attempt(attempt, Outcome.SUCCEEDED, response_summary=answer[:2000])
    return result


def _start_top_up_attempt(order: Order, provider, reference: str, summary: str):
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        stale = locked.provisioning_attempts.filter(
            operation=ProvisioningAttempt.Operation.TOP_UP, outcome=Outcome.IN_PROGRESS
        )
        for attempt in stale:  # a worker that died during an earlier top-up call
            _finish_top_up_attempt(
                attempt, Outcome.TRANSIENT_ERROR, error="abandoned: no result recorded"
            )
        number = (locked.provisioning_attempts.aggregate(n=Max("number"))["n"] or 0) + 1
        return ProvisioningAttempt.objects.create(
            order=locked,
            number=number,
            provider=provider,
            operation=ProvisioningAttempt.Operation.TOP_UP,
            reference=reference,
            request_summary=summary,
        )


def _finish_top_up_attempt(attempt, outcome: str, **changes) -> None:
    transition(
        attempt, outcome, field="outcome", changes={"finished_at": timezone.now(), **changes}
    )


def _record_carry_over(order: Order, carry: CarryOver) -> None:
    """Audit entries on the order: the top-up at our cost, and any shortfall for staff."""
    if carry.top_up_reference:
        audit.record(
            action=TOP_UP_ACTION,
            target=order,
            actor_label="worker",
            after={
                "data_added_mb": carry.data_added_mb,
                "valid_until": carry.expires_at.isoformat() if carry.expires_at else None,
                "reference": top_up_reference(order),
                "upstream_reference": carry.top_up_reference,
            },
            note=(
                f"The new eSIM was topped up at our cost to keep the old one's data and expiry: "
                f"+{carry.data_added_mb} MB, valid until {_when(carry.expires_at)}."
            ),
        )
    if carry.shortfall:
        audit.record(
            action=SHORTFALL_ACTION,
            target=order,
            actor_label="worker",
            before={
                "data_mb": carry.promised_data_mb,
                "expires_at": _iso(carry.promised_until),
            },
            after={"data_mb": carry.data_mb, "expires_at": _iso(carry.expires_at)},
            note=(
                f"The new eSIM has less than the old one promised "
                f"({_data(carry.promised_data_mb)} until {_when(carry.promised_until)}): "
                f"{carry.shortfall}. It has {_data(carry.data_mb)} until "
                f"{_when(carry.expires_at)} upstream and shows that to the customer. "
                f"Make up the difference (e.g. a free renewal) or tell the customer."
            ),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "no expiry"


def _data(mb: int | None) -> str:
    return "unlimited data" if mb is None else f"{mb} MB"
