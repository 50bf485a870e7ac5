"""The append-only audit trail: every staff action and every state change."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.saves import CompiledSaves


class AppendOnlyError(Exception):
    """Raised on an attempt to change or delete an append-only row."""


class AppendOnlyModel(CompiledSaves):
    """Rows are written once and never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted.")


class AuditEntry(AppendOnlyModel):
    """Who did what to which object, with the state before and after."""

    created_at = models.DateTimeField(
        verbose_name=_("created at"), auto_now_add=True, db_index=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    actor_label = models.CharField(
        verbose_name=_("actor label"),
        max_length=100,
        blank=True,
        help_text=_("Non-user actors: 'worker', 'partner:acme', …"),
    )
    action = models.CharField(verbose_name=_("action"), max_length=100)
    target_type = models.ForeignKey(
        ContentType, verbose_name=_("target type"), on_delete=models.PROTECT
    )
    target_id = models.CharField(verbose_name=_("target ID"), max_length=64)
    target_repr = models.CharField(verbose_name=_("target repr"), max_length=200)
    before = models.JSONField(
        verbose_name=_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    after = models.JSONField(
        verbose_name=_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    note = models.TextField(verbose_name=_("note"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        db_table = "portal_auditentry"  # the table predates the core app
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "created_at"]),
            models.Index(fields=["action", "-created_at"], name="audit_action_idx"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"
