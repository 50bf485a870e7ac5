"""One row per call to a real upstream: latency and errors, for provider health and timelines."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderCall(models.Model):
    """A single HTTP call to an upstream provider and how it went."""

    class Outcome(models.TextChoices):
        OK = "ok", _("OK")
        TRANSIENT = "transient", _("Transient error")
        PERMANENT = "permanent", _("Permanent error")

    provider = models.ForeignKey(
        "plans.Provider", verbose_name=_("provider"), on_delete=models.CASCADE, related_name="calls"
    )
    operation = models.CharField(verbose_name=_("operation"), max_length=40)
    method = models.CharField(verbose_name=_("method"), max_length=10)
    path = models.CharField(verbose_name=_("path"), max_length=300)
    reference = models.CharField(
        verbose_name=_("reference"), max_length=100, blank=True, db_index=True
    )
    status_code = models.PositiveSmallIntegerField(
        verbose_name=_("status code"), null=True, blank=True
    )
    outcome = models.CharField(verbose_name=_("outcome"), max_length=10, choices=Outcome.choices)
    latency_ms = models.PositiveIntegerField(verbose_name=_("latency (ms)"))
    error = models.CharField(verbose_name=_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), db_index=True)

    class Meta:
        verbose_name = _("provider call")
        verbose_name_plural = _("provider calls")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["provider", "started_at"])]

    def __str__(self):
        return f"{self.provider_id} {self.method} {self.path} {self.outcome}"
