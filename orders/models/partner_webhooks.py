"""Outgoing partner webhooks: endpoints, one delivery per event and target, one row per try.

The tables keep the names they had when these models lived in accounts (``accounts_*``).

A delivery's history is its attempt rows (append-only), so the status field needs no audit
entries of its own: pending → (failed →)* succeeded | abandoned; a redelivery sets it pending again.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.partner_webhooks import signing

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 32 random bytes.

    Secrets made before (``whsec_`` + 43 URL-safe characters) stay as they are and keep
    signing with the same key (``orders.partner_webhooks.signing.key_of``).
    """
    return signing.new_secret()


def validate_webhook_url(url: str) -> None:
    """https only; plain http is allowed in development (DEBUG) and for this machine.

    Outside development, private, link-local and reserved IP addresses written in the URL are
    refused (cloud metadata, the office network). Host names are not resolved here.
    """
    URLValidator(schemes=["http", "https"])(url)
    parts = urlsplit(url)
    if settings.DEBUG or parts.hostname in LOCAL_HOSTS:
        return
    if parts.scheme != "https":
        raise ValidationError(_("Webhook URLs must use https."), code="https_required")
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return
    if not address.is_global and not address.is_loopback:
        raise ValidationError(_("This address cannot receive webhooks."), code="address_refused")


class EventType(models.TextChoices):
    ORDER_FULFILLED = "order.fulfilled", _("Order fulfilled")
    ORDER_FAILED = "order.failed", _("Order needs attention")
    SIM_LOW_DATA = "sim.low_data", _("SIM low on data")
    SIM_EXPIRING = "sim.expiring", _("SIM expiring")
    REPLACEMENT_APPROVED = "replacement.approved", _("Replacement approved")
    REPLACEMENT_REJECTED = "replacement.rejected", _("Replacement rejected")
    REPLACEMENT_SHIPPED = "replacement.shipped", _("Replacement SIM card shipped")
    REPLACEMENT_ACTIVATED = "replacement.activated", _("Replacement SIM card activated")
    WALLET_LOW_BALANCE = "wallet.low_balance", _("Wallet balance low")


class WebhookEndpoint(models.Model):
    """A partner URL that receives the events it subscribes to (all when ``events`` is empty)."""

    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(_("URL"), max_length=500, validators=[validate_webhook_url])
    secret = models.CharField(
        verbose_name=_("secret"), max_length=100, default=new_webhook_secret, editable=False
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_("Event types sent; empty: all."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "accounts_webhookendpoint"
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "-created_at"])]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


class OrderWebhookSecret(models.Model):
    """The partner's secret for signing deliveries to orders' own ``webhook_url``."""

    partner = models.OneToOneField(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="order_webhook_secret",
    )
    secret = models.CharField(
        verbose_name=_("secret"), max_length=100, default=new_webhook_secret, editable=False
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order webhook secret")
        verbose_name_plural = _("order webhook secrets")
        db_table = "accounts_orderwebhooksecret"

    def __str__(self):
        return f"Order webhook secret of {self.partner}"


class WebhookDelivery(models.Model):
    """One event sent to one URL, retried on a schedule until it succeeds or is abandoned."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FAILED = "failed", _("Failed, will retry")
        SUCCEEDED = "succeeded", _("Delivered")
        ABANDONED = "abandoned", _("Abandoned")

    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        help_text=_("Empty: sent to the order's own webhook URL."),
    )
    url = models.CharField(_("URL"), max_length=500)
    event_id = models.UUIDField(_("event id"), db_index=True)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(
        verbose_name=_("claimed until"),
        null=True,
        blank=True,
        help_text=_("A worker has this delivery until then."),
    )
    last_status_code = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        db_table = "accounts_webhookdelivery"
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
            models.Index(fields=["-created_at", "-id"], name="webhook_delivery_created_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.url}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back and how long it took."""

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    url = models.CharField(_("URL"), max_length=500)
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=Outcome.choices,
        default=Outcome.IN_PROGRESS,
    )
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        db_table = "accounts_webhookattempt"
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhook_attempt_number_per_delivery"
            )
        ]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}: {self.outcome}"
