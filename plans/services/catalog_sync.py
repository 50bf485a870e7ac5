"""Catalog sync: compare what an upstream sells with our plans, preview the changes, apply them.

Plans are matched by ``(provider, provider_sku)``. Updates change only the upstream's facts
(:data:`FACT_FIELDS`, and the period when it followed the validity); our customer-facing
``name``/``name_zh``, kind, operator, retail prices and ordering stay ours. New plans are created
inactive and without retail prices: staff price them, then activate them. Plans gone upstream
are deactivated, never deleted. A plan the sync deactivated is reactivated when the upstream
sells it again; one staff deactivated stays inactive. A skipped item (operator not ours, invalid
values) leaves our plan of that SKU as it is.

:func:`apply` is the only write (:func:`preview` reads). It re-reads the catalog and, given the
preview staff confirmed, refuses if the changes now differ from it (compared by
:attr:`SyncPlan.fingerprint`).
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.admin.audit import plain, snapshot
from core.models import AuditEntry
from plans.models import Operator, Period, Plan, Provider
from plans.providers import Capability, ProviderError, capabilities_of, get_adapter
from plans.providers.base import CatalogItem
from plans.services.catalog_checks import normalized, problem

SYNC_LABEL = "catalog sync"
CREATED = "catalog.plan_created"
UPDATED = "catalog.plan_updated"
REACTIVATED = "catalog.plan_reactivated"
DEACTIVATED = "catalog.plan_deactivated"
FACT_FIELDS = (
    "cost",
    "cost_currency",
    "data_mb",
    "data_unlimited",
    "validity_days",
    "minutes",
    "sms",
    "airtime_amount",
)


class CatalogSyncError(Exception):
    """The sync cannot go ahead; ``message`` says why, in words for staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StaleSyncPlan(CatalogSyncError):
    """The catalog or our plans changed after the preview that staff confirmed."""


@dataclass(frozen=True)
class NewPlan:
    item: CatalogItem
    operator: Operator


@dataclass(frozen=True)
class PlanChange:
    plan: Plan
    fields: dict  # field name -> (ours, theirs)
    reactivate: bool = False


@dataclass(frozen=True)
class SkippedItem:
    sku: str
    name: str
    reason: str


@dataclass
class SyncPlan:
    """What applying the upstream's catalog would change."""

    provider: Provider
    new: list[NewPlan] = field(default_factory=list)
    changed: list[PlanChange] = field(default_factory=list)
    deactivated: list[Plan] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.deactivated)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of every change (skipped items aside), to confirm exactly this preview."""
        content = {
            "provider": self.provider.pk,
            "new": [{k: _canonical(v) for k, v in asdict(n.item).items()} for n in self.new],
            "changed": [
                [c.plan.pk, c.plan.provider_sku, c.reactivate]
                + [[k, _canonical(a), _canonical(b)] for k, (a, b) in sorted(c.fields.items())]
                for c in self.changed
            ],
            "deactivated": [[p.pk, p.provider_sku] for p in self.deactivated],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class SyncResult:
    created: int = 0
    updated: int = 0
    reactivated: int = 0
    deactivated: int = 0


def period_for(validity_days: int) -> str:
    """The period a plan of this validity is listed under."""
    if validity_days == 0:
        return Period.NONE
    if validity_days < 7:
        return Period.DAILY
    if validity_days < 28:
        return Period.WEEKLY
    if validity_days < 365:
        return Period.MONTHLY
    return Period.YEARLY


def shown(value) -> str:
    """A value as staff read it: amounts without needless zeros, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal):
        cents = value.quantize(Decimal("0.01"))
        return str(cents if cents == value else value.normalize())
    return str(value)


def preview(*, provider: Provider) -> SyncPlan:
    """What syncing ``provider``'s catalog would change; CatalogSyncError if it cannot be read."""
    return _diff(provider, _fetch(provider))


def apply(
    *,
    provider: Provider,
    actor=None,
    actor_label: str = "",
    sync_plan: SyncPlan | None = None,
    fingerprint: str | None = None,
) -> SyncResult:
    """Apply the catalog in one transaction, audited.

    With ``sync_plan`` (or the ``fingerprint`` of one), refuses with StaleSyncPlan unless the
    changes are still exactly those.
    """
    expected = sync_plan.fingerprint if sync_plan is not None else fingerprint
    items = _fetch(provider)
    with transaction.atomic():
        Provider.objects.select_for_update().filter(pk=provider.pk).first()
        fresh = _diff(provider, items, lock=True)
        if expected is not None and fresh.fingerprint != expected:
            raise StaleSyncPlan(
                _(
                    "The catalog of %(provider)s or our plans changed since the preview. "
                    "Nothing was changed: review the new preview."
                )
                % {"provider": provider}
            )
        return _write(fresh, actor=actor, actor_label="" if actor else actor_label or SYNC_LABEL)


def _fetch(provider: Provider) -> list[CatalogItem]:
    try:
        return list(get_adapter(provider, needs=Capability.READ_CATALOG).list_catalog())
    except ProviderError as exc:
        raise CatalogSyncError(
            _("Could not read the catalog of %(provider)s: %(error)s")
            % {"provider": provider, "error": exc.summary}
        ) from exc


def _diff(provider: Provider, items: list[CatalogItem], *, lock: bool = False) -> SyncPlan:
    plans = Plan.objects.filter(provider=provider).select_related("operator")
    if lock:
        plans = plans.select_for_update(of=("self",))
    ours = {plan.provider_sku: plan for plan in plans.order_by("provider_sku")}
    if not items and any(plan.is_active for plan in ours.values()):
        raise CatalogSyncError(
            _("%(provider)s returned an empty catalog; refusing to deactivate all its plans.")
            % {"provider": provider}
        )
    operators = {operator.code: operator for operator in Operator.objects.all()}
    capabilities = capabilities_of(provider.adapter)
    listed: dict[str, list[CatalogItem]] = {}
    for item in items:
        listed.setdefault(item.sku, []).append(item)
    returning = _deactivated_by_sync(
        [plan.pk for sku, plan in ours.items() if sku in listed and not plan.is_active]
    )
    sync_plan = SyncPlan(provider)
    for sku in sorted(listed, key=str):
        item, existing = listed[sku][0], ours.get(sku)
        if len(listed[sku]) > 1:
            reason = _("listed more than once")
        else:
            reason = problem(item, operators, existing, capabilities)
        if reason:
            sync_plan.skipped.append(SkippedItem(str(sku), str(item.name), reason))
            continue
        item = normalized(item)
        if existing is None:
            sync_plan.new.append(NewPlan(item, operators[item.operator_code]))
            continue
        changes = _changes(existing, item)
        if changes or existing.pk in returning:
            sync_plan.changed.append(PlanChange(existing, changes, existing.pk in returning))
    sync_plan.deactivated = [p for sku, p in ours.items() if sku not in listed and p.is_active]
    return sync_plan


def _changes(plan: Plan, item: CatalogItem) -> dict:
    changes = {
        name: (getattr(plan, name), getattr(item, name))
        for name in FACT_FIELDS
        if getattr(plan, name) != getattr(item, name)
    }
    period = period_for(item.validity_days)
    followed_validity = plan.period == period_for(plan.validity_days)
    if "validity_days" in changes and followed_validity and plan.period != period:
        changes["period"] = (plan.period, period)
    return changes


def _deactivated_by_sync(plan_ids: list[int]) -> set[int]:
    """Those of the plans whose latest change of ``is_active`` was made by the sync."""
    if not plan_ids:
        return set()
    entries = AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(Plan, for_concrete_model=False),
        target_id__in=[str(pk) for pk in plan_ids],
        after__has_key="is_active",
    ).order_by("-created_at", "-id")
    latest: dict[str, str] = {}
    for target_id, action in entries.values_list("target_id", "action"):
        latest.setdefault(target_id, action)
    return {int(target_id) for target_id, action in latest.items() if action == DEACTIVATED}


def _write(sync_plan: SyncPlan, *, actor, actor_label: str) -> SyncResult:
    note = f"{SYNC_LABEL} {sync_plan.fingerprint[:12]}"

    def record(action, plan, before, after):
        audit.record(
            action=action,
            target=plan,
            actor=actor,
            actor_label=actor_label,
            before=before,
            after=after,
            note=note,
        )

    for new in sync_plan.new:
        item = new.item
        plan = Plan.objects.create(
            provider=sync_plan.provider,
            operator=new.operator,
            provider_sku=item.sku,
            kind=item.kind,
            name=item.name,
            period=period_for(item.validity_days),
            is_active=False,
            **{name: getattr(item, name) for name in FACT_FIELDS},
        )
        record(CREATED, plan, {}, snapshot(plan))
    for change in sync_plan.changed:
        plan, fields = change.plan, dict(change.fields)
        if change.reactivate:
            fields["is_active"] = (False, True)
        for name, (_ours, theirs) in fields.items():
            setattr(plan, name, theirs)
        plan.save(update_fields=[*fields, "updated_at"])
        before = {name: plain(ours) for name, (ours, _theirs) in fields.items()}
        after = {name: plain(theirs) for name, (_ours, theirs) in fields.items()}
        record(REACTIVATED if change.reactivate else UPDATED, plan, before, after)
    for plan in sync_plan.deactivated:
        plan.is_active = False
        plan.save(update_fields=["is_active", "updated_at"])
        record(DEACTIVATED, plan, {"is_active": True}, {"is_active": False})
    reactivated = sum(change.reactivate for change in sync_plan.changed)
    return SyncResult(
        created=len(sync_plan.new),
        updated=len(sync_plan.changed) - reactivated,
        reactivated=reactivated,
        deactivated=len(sync_plan.deactivated),
    )


def _canonical(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value
