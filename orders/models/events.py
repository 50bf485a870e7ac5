"""Incoming webhook events, each recorded once by its source's event id."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """An event as the source sent it, and how it ended (ARCHITECTURE.md, rule 10)."""

    class Source(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TEST = "test", _("Test gateway")
        PROVIDER = "provider", _("Upstream provider")
        JAZZCASH = "jazzcash", "JazzCash"
        EASYPAISA = "easypaisa", "Easypaisa"

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    source = models.CharField(verbose_name=_("source"), max_length=20, choices=Source.choices)
    event_id = models.CharField(verbose_name=_("event ID"), max_length=255)
    event_type = models.CharField(verbose_name=_("event type"), max_length=100)
    payload = models.JSONField(verbose_name=_("payload"))
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(verbose_name=_("processed at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        verbose_name=_("next attempt at"),
        null=True,
        blank=True,
        help_text=_("When a pending event is next tried."),
    )
    outcome = models.CharField(
        verbose_name=_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    attempts = models.PositiveSmallIntegerField(
        verbose_name=_("attempts"), default=0, help_text=_("How many times processing was tried.")
    )
    error = models.TextField(
        _("reason"),
        blank=True,
        help_text=_("Why the event was ignored or failed, or the last error."),
    )

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(fields=["processed_at", "received_at"]),
            models.Index(fields=["-received_at", "-id"], name="webhook_event_received_idx"),
            models.Index(fields=["event_type", "-received_at"], name="webhook_event_type_idx"),
            models.Index(fields=["outcome", "-received_at"], name="webhook_event_outcome_idx"),
            models.Index(  # the dispatcher: pending events due now
                fields=["next_attempt_at"],
                condition=models.Q(outcome="pending"),
                name="webhook_event_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.source}:{self.event_type} {self.event_id}"
