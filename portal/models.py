"""Partner API idempotency records."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.saves import CompiledSaves


class IdempotencyRecord(CompiledSaves):
    """The first response to a partner's POST with an Idempotency-Key, replayed for retries."""

    partner = models.ForeignKey(
        "accounts.Partner", verbose_name=_("partner"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(verbose_name=_("key"), max_length=255)
    fingerprint = models.CharField(
        verbose_name=_("fingerprint"), max_length=64, help_text="SHA-256 of method, path and body"
    )
    completed = models.BooleanField(verbose_name=_("completed"), default=False)
    locked_until = models.DateTimeField(
        verbose_name=_("locked until"),
        null=True,
        blank=True,
        help_text="While not completed: the claim's lease; an expired claim may be taken over.",
    )
    response_status = models.PositiveSmallIntegerField(
        verbose_name=_("response status"), null=True, blank=True
    )
    response_body = models.BinaryField(verbose_name=_("response body"), blank=True, default=b"")
    response_content_type = models.CharField(
        verbose_name=_("response content type"), max_length=100, blank=True
    )
    created_at = models.DateTimeField(
        verbose_name=_("created at"), auto_now_add=True, db_index=True
    )

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")
        ]

    def __str__(self):
        return f"{self.partner_id}:{self.key}"
