"""Auto-renew: saved cards, a SIM's standing renewal order, and one charge per SIM per period."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import currency_field


def new_setup_token() -> str:
    return secrets.token_urlsafe(24)


class SavedPaymentMethod(models.Model):
    """A card the customer saved for off-session charges (Stripe or the test gateway).

    The row is written when the setup starts; it is usable once the gateway reports the saved
    payment method (``payment_method_reference`` set) and until it is revoked.
    """

    class GatewayKey(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TEST = "test", _("Test payments")

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="saved_payment_methods",
    )
    gateway = models.CharField(verbose_name=_("gateway"), max_length=20, choices=GatewayKey.choices)
    setup_token = models.CharField(
        verbose_name=_("setup token"), max_length=64, unique=True, default=new_setup_token
    )
    setup_reference = models.CharField(
        verbose_name=_("setup reference"),
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("Checkout session of the setup."),
    )
    customer_reference = models.CharField(
        verbose_name=_("customer reference"), max_length=255, blank=True
    )
    payment_method_reference = models.CharField(
        verbose_name=_("payment method reference"), max_length=255, blank=True
    )
    label = models.CharField(verbose_name=_("label"), max_length=100, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    saved_at = models.DateTimeField(verbose_name=_("saved at"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("saved payment method")
        verbose_name_plural = _("saved payment methods")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"])]

    def __str__(self):
        return self.label or str(_("Card being saved"))

    @property
    def usable(self) -> bool:
        return bool(self.payment_method_reference) and self.revoked_at is None


class AutoRenewal(models.Model):
    """The customer's standing order to renew a SIM with a plan and a saved card."""

    sim = models.OneToOneField(
        "orders.Sim", verbose_name=_("SIM"), on_delete=models.CASCADE, related_name="auto_renewal"
    )
    enabled = models.BooleanField(verbose_name=_("enabled"), default=True)
    plan = models.ForeignKey(
        "plans.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+"
    )
    currency = currency_field(verbose_name=_("currency"))
    payment_method = models.ForeignKey(
        SavedPaymentMethod,
        verbose_name=_("payment method"),
        on_delete=models.PROTECT,
        related_name="auto_renewals",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("auto-renewal")
        verbose_name_plural = _("auto-renewals")
        indexes = [models.Index(fields=["enabled"])]

    def __str__(self):
        return f"Auto-renew {self.sim} ({'on' if self.enabled else 'off'})"


class AutoRenewalCharge(models.Model):
    """One period's charge for an auto-renewal: inserted before any money moves.

    ``UniqueConstraint(auto_renewal, period_key)`` is the "one charge per SIM per period"
    guarantee; ``attempts`` counts the off-session charges started (at most two).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    auto_renewal = models.ForeignKey(
        AutoRenewal,
        verbose_name=_("auto-renewal"),
        on_delete=models.CASCADE,
        related_name="charges",
    )
    period_key = models.CharField(
        verbose_name=_("period key"), max_length=64, help_text=_("The SIM's expiry when charged.")
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=1)
    last_error = models.TextField(verbose_name=_("last error"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("auto-renewal charge")
        verbose_name_plural = _("auto-renewal charges")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["auto_renewal", "period_key"], name="auto_renewal_charge_once_per_period"
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return f"{self.auto_renewal_id} {self.period_key}: {self.status}"
