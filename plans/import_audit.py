"""The audit trail of the catalog import: one entry per plan added or changed."""

from plans.import_widgets import PRICE_COLUMNS, prices_of
from plans.models import Plan
from portal import audit
from portal.admin_audit import plain, snapshot

UNAUDITED_FIELDS = {"created_at", "updated_at"}


def audit_state(plan: Plan) -> dict:
    """The plan's fields and prices as the audit trail compares them."""
    state = {k: v for k, v in snapshot(plan).items() if k not in UNAUDITED_FIELDS}
    state.update({column: prices_of(plan).get(cur) for column, cur in PRICE_COLUMNS.items()})
    return state


def record_import(plan: Plan, user, file_name: str) -> None:
    """One audit entry for a plan the import added or changed, with before and after."""
    before, after = plan._audit_before, audit_state(plan)
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
