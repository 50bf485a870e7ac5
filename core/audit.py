"""Writing the audit trail."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from core.models import AuditEntry


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
    """Append one audit entry about ``target``."""
    return AuditEntry.objects.create(
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


def entries_for(target: models.Model):
    """The audit entries about ``target``, newest first."""
    return AuditEntry.objects.filter(
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
    )
