"""Catalog import writes: one imported row becomes a plan, its retail prices and an audit entry.

The admin's import (``plans.admin.importing.PlanResource``) reads and checks the file; every row it
applies is written here, inside the import's transaction (rolled back for the preview).
"""

from decimal import Decimal

from core import audit
from core.admin.audit import plain, snapshot
from plans.importing.widgets import PRICE_COLUMNS, prices_of
from plans.models import Plan, PlanPrice

UNAUDITED_FIELDS = {"created_at", "updated_at"}


def audit_state(plan: Plan) -> dict:
    """The plan's fields and prices as the audit trail compares them."""
    state = {k: v for k, v in snapshot(plan).items() if k not in UNAUDITED_FIELDS}
    state.update({column: prices_of(plan).get(cur) for column, cur in PRICE_COLUMNS.items()})
    return state


def save_imported_plan(
    *,
    plan: Plan,
    is_create: bool,
    prices: dict[str, Decimal],
    before: dict,
    user=None,
    file_name: str = "",
    audit_entry: bool = True,
) -> Plan:
    """Write one imported row: the plan, its retail ``prices`` (by currency; missing ones are
    created, changed ones updated, others kept) and, with ``audit_entry``, one audit entry
    comparing ``before`` (the plan's :func:`audit_state` before the row, ``{}`` if new)."""
    plan.save(force_insert=is_create)
    held = prices_of(plan)
    if held is not prices:
        held.update(prices)
    save_prices(plan=plan)
    if audit_entry:
        record_import(plan=plan, before=before, user=user, file_name=file_name)
    return plan


def save_prices(*, plan: Plan) -> None:
    """Write the prices held on the instance: create missing ones, update changed ones."""
    stored = {price.currency: price for price in PlanPrice.objects.filter(plan=plan)}
    for currency, amount in prices_of(plan).items():
        price = stored.get(currency)
        if price is None:
            PlanPrice.objects.create(plan=plan, currency=currency, amount=amount)
        elif price.amount != amount:
            price.amount = amount
            price.save(update_fields=["amount"])


def record_import(*, plan: Plan, before: dict, user, file_name: str) -> None:
    """One audit entry for a plan the import added or changed, with before and after."""
    after = audit_state(plan)
    added = not before
    if not added:
        changed = [key for key, value in after.items() if value != before.get(key)]
        before = {key: plain(before.get(key)) for key in changed}
        after = {key: plain(after[key]) for key in changed}
    else:
        after = {key: plain(value) for key, value in after.items() if value is not None}
    audit.record(
        action="catalog_import.plan_added" if added else "catalog_import.plan_changed",
        target=plan,
        actor=user,
        before=before,
        after=after,
        note=f"import: {file_name}",
    )
