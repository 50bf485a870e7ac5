"""Incoming webhook events, each recorded once by its source's event id."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    class Source(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TEST = "test", _("Test gateway")
        PROVIDER = "provider", _("Upstream provider")

    source = models.CharField(max_length=20, choices=Source.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(fields=["processed_at", "received_at"]),
            models.Index(fields=["-received_at", "-id"], name="webhook_event_received_idx"),
            models.Index(fields=["event_type", "-received_at"], name="webhook_event_type_idx"),
        ]

    def __str__(self):
        return f"{self.source}:{self.event_type} {self.event_id}"
