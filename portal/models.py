"""Partner API idempotency records."""

from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a partner's POST with an Idempotency-Key, replayed for retries."""

    partner = models.ForeignKey("accounts.Partner", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    completed = models.BooleanField(default=False)
    locked_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While not completed: the claim's lease; an expired claim may be taken over.",
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_per_partner")
        ]

    def __str__(self):
        return f"{self.partner_id}:{self.key}"
