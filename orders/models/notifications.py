"""In-site notifications: one row per reminder, which is also what makes a reminder send once."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to a customer (or about a partner's SIM) and the channels it went out on.

    ``UniqueConstraint(sim, kind, period_key)`` is the "created once" guarantee: a sweep inserts
    the rows first and sends only for the rows it inserted itself (``run_id``). Reminders are
    delivered at least once: a row whose ``sent_at`` is still empty
    ``REMINDER_RESEND_AFTER_MINUTES`` after ``claimed_at`` is claimed again by a later sweep (a
    conditional UPDATE that sets a new ``run_id``), up to
    ``orders.notifications.reminders.MAX_CLAIMS`` times.
    """

    class Kind(models.TextChoices):
        EXPIRY_3D = "expiry_3d", _("SIM expires in 3 days")
        EXPIRY_1D = "expiry_1d", _("SIM expires in 1 day")
        EXPIRED = "expired", _("SIM expired")
        DATA_80 = "data_80", _("Data running low")
        DATA_100 = "data_100", _("All data used")
        AUTO_RENEW_FAILED = "auto_renew_failed", _("Automatic renewal failed")
        REPLACEMENT_SHIPPED = "replacement_shipped", _("Replacement SIM shipped")
        REPLACEMENT_ACTIVATED = "replacement_activated", _("Replacement SIM activated")
        SUPPORT_REPLY = "support_reply", _("Customer service answered")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("Webhook")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    sim = models.ForeignKey(
        "orders.Sim",
        verbose_name=_("SIM"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=30, choices=Kind.choices)
    period_key = models.CharField(
        verbose_name=_("period key"),
        max_length=64,
        help_text=_("Identifies the SIM's period (its expiry time)."),
    )
    period_end = models.DateTimeField(
        verbose_name=_("period end"),
        null=True,
        blank=True,
        help_text=_("The SIM's expiry time this reminder was about."),
    )
    channels = models.JSONField(verbose_name=_("channels"), default=list, blank=True)
    error = models.TextField(verbose_name=_("error"), blank=True)
    title = models.CharField(verbose_name=_("title"), max_length=200)
    body = models.TextField(verbose_name=_("body"))
    run_id = models.UUIDField(
        verbose_name=_("run ID"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The sweep that holds the claim."),
    )
    claimed_at = models.DateTimeField(
        verbose_name=_("claimed at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the last send attempt was claimed; empty when none is pending."),
    )
    claims = models.PositiveSmallIntegerField(verbose_name=_("claims"), default=0, editable=False)
    sent_at = models.DateTimeField(
        verbose_name=_("sent at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When delivery finished (each channel sent, or failed for good)."),
    )
    read_at = models.DateTimeField(verbose_name=_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        db_table = "accounts_notification"  # created when the model lived in accounts
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sim", "kind", "period_key"], name="notification_once_per_sim_period"
            )
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["-created_at", "-id"], name="notification_created_idx"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(sent_at__isnull=True, claimed_at__isnull=False),
                name="notification_unsent_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.period_key})"
