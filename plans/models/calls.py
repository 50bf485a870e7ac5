"""One row per call to a real upstream: latency and errors, for provider health and timelines."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderCall(models.Model):
    """A single HTTP call to an upstream provider and how it went."""

    class Outcome(models.TextChoices):
        OK = "ok", _("OK")
        TRANSIENT = "transient", _("Transient error")
        PERMANENT = "permanent", _("Permanent error")

    provider = models.ForeignKey("plans.Provider", on_delete=models.CASCADE, related_name="calls")
    operation = models.CharField(max_length=40)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["provider", "started_at"])]

    def __str__(self):
        return f"{self.provider_id} {self.method} {self.path} {self.outcome}"
