"""Writing the audit trail."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.models import AuditEntry

_batch: ContextVar[list[AuditEntry] | None] = ContextVar("audit_batch", default=None)


def record(
    *,
    action: str,
    target: models.Model,
    actor=None,
    actor_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one audit entry about ``target`` (inside ``batched()``: when the block ends)."""
    entry = AuditEntry(
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label,
        before=before or {},
        after=after or {},
        note=note,
    )
    batch = _batch.get()
    if batch is None:
        entry.save()
    else:
        batch.append(entry)
    return entry


@contextmanager
def batched() -> Iterator[None]:
    """Inside a transaction: the entries recorded in the block are written with one INSERT when
    it ends, in the order recorded. A block left by an error writes none (its transaction is
    rolled back with the changes they describe). Not around a savepoint whose error is caught
    inside the block: the entries recorded in it would still be written."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are batched inside the transaction they describe.")
    entries: list[AuditEntry] = []
    token = _batch.set(entries)
    try:
        yield
    finally:
        _batch.reset(token)
    if entries:
        AuditEntry.insert_all(entries)


def entries_for(target: models.Model):
    """The audit entries about ``target``, newest first."""
    return AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
    )
