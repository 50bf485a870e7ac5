"""Retail prices, partner price rules and promotions: the writes staff make in the admin.

Each save or delete leaves the audit entry the admin always wrote (``admin.<model>.added``
with the whole row, ``.changed`` with the changed fields before and after, ``.deleted`` with
what it was), naming the staff member.
"""

from collections.abc import Iterable, Sequence

from django.db import models, transaction

from core import audit
from core.admin.audit import plain, snapshot
from plans.models import PartnerPriceRule, PlanPrice, Promotion


def save_plan_price(
    *, price: PlanPrice, actor, changed_fields: Sequence[str] = (), before: dict | None = None
) -> PlanPrice:
    """Add a plan's retail price, or write the ``changed_fields`` of one (``before``: their old
    values, as the audit shows them)."""
    return _save(price, actor=actor, changed_fields=changed_fields, before=before)


def save_price_rule(
    *,
    rule: PartnerPriceRule,
    actor,
    changed_fields: Sequence[str] = (),
    before: dict | None = None,
) -> PartnerPriceRule:
    """Add a partner price rule, or write the ``changed_fields`` of one."""
    return _save(rule, actor=actor, changed_fields=changed_fields, before=before)


def save_promotion(
    *,
    promotion: Promotion,
    actor,
    changed_fields: Sequence[str] = (),
    before: dict | None = None,
) -> Promotion:
    """Add a promotion, or write the ``changed_fields`` of one."""
    return _save(promotion, actor=actor, changed_fields=changed_fields, before=before)


def delete_plan_prices(*, prices: Iterable[PlanPrice], actor) -> None:
    """Delete retail prices, recording what each was."""
    _delete(prices, actor=actor)


def delete_price_rules(*, rules: Iterable[PartnerPriceRule], actor) -> None:
    """Delete partner price rules, recording what each was."""
    _delete(rules, actor=actor)


def delete_promotions(*, promotions: Iterable[Promotion], actor) -> None:
    """Delete promotions, recording what each was."""
    _delete(promotions, actor=actor)


def _save(obj: models.Model, *, actor, changed_fields: Sequence[str], before: dict | None):
    adding = obj._state.adding
    fields = list(changed_fields)
    with transaction.atomic():
        if adding:
            obj.save()
        elif fields:
            # Only the columns staff changed: a stale copy of the others is never written back.
            concrete = obj._meta.concrete_fields
            names = {f.name for f in concrete if not f.primary_key}
            touched = [f.name for f in concrete if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*(n for n in fields if n in names), *touched])
        if adding:
            _record(obj, "added", actor, {}, snapshot(obj))
        else:
            after = {name: plain(getattr(obj, name, None)) for name in fields}
            _record(obj, "changed", actor, before, after)
    return obj


def _delete(objects: Iterable[models.Model], *, actor) -> None:
    with transaction.atomic():
        for obj in objects:
            _record(obj, "deleted", actor, snapshot(obj), {})
        if isinstance(objects, models.QuerySet):
            objects.delete()
        else:
            for obj in objects:
                obj.delete()


def _record(obj: models.Model, verb: str, actor, before: dict | None, after: dict) -> None:
    audit.record(
        action=f"admin.{obj._meta.model_name}.{verb}",
        target=obj,
        actor=actor,
        before=before,
        after=after,
    )
