"""Payments and refunds against an order."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import currency_field, money_field, show_money
from core.saves import CompiledSaves
from core.state import TransitionMap


class Gateway(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    TEST = "test", _("Test payments")
    MANUAL = "manual", _("Manual (bank transfer, JazzCash, Easypaisa)")
    WALLET = "wallet", _("Partner wallet")
    JAZZCASH = "jazzcash", "JazzCash"
    EASYPAISA = "easypaisa", "Easypaisa"


# Pakistani mobile wallets paid automatically: hosted checkout or a charge approved on the phone.
LOCAL_WALLET_GATEWAYS = (Gateway.JAZZCASH, Gateway.EASYPAISA)


class Payment(CompiledSaves):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    TRANSITIONS = TransitionMap(
        Status,
        {
            Status.PENDING: {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED},
            Status.FAILED: {Status.SUCCEEDED},
            # Money that arrives for a superseded or expired attempt is recorded all the same.
            Status.CANCELLED: {Status.SUCCEEDED},
            Status.SUCCEEDED: {Status.REFUNDED},
        },
    )

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(verbose_name=_("gateway"), max_length=20, choices=Gateway.choices)
    method = models.CharField(
        verbose_name=_("method"),
        max_length=30,
        blank=True,
        help_text=_("card, alipay, jazzcash, …"),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    amount = money_field(verbose_name=_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    external_reference = models.CharField(
        verbose_name=_("external reference"),
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text=_("The gateway's id: Stripe session, bank reference, wallet entry."),
    )
    idempotency_key = models.CharField(
        verbose_name=_("idempotency key"), max_length=100, unique=True
    )
    customer_reference = models.CharField(
        verbose_name=_("customer reference"), max_length=100, blank=True
    )
    payer_account = models.CharField(
        default="",
        db_default="",
        verbose_name=_("wallet number"),
        max_length=20,
        blank=True,
        help_text=_("The mobile wallet charged directly (+92…); empty for a hosted checkout."),
    )
    gateway_reference = models.CharField(
        default="",
        db_default="",
        verbose_name=_("gateway transaction ID"),
        max_length=100,
        blank=True,
        help_text=_("The gateway's own id for the transaction, once it has one."),
    )
    gateway_status = models.CharField(
        default="",
        db_default="",
        verbose_name=_("gateway status"),
        max_length=200,
        blank=True,
        help_text=_("The status the gateway last reported, as it said it."),
    )
    expires_at = models.DateTimeField(
        verbose_name=_("expires at"),
        null=True,
        blank=True,
        help_text=_("After this the attempt can no longer be paid and is ended."),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_gte_0"),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="payment_created_idx"),
            models.Index(  # the admin's "awaiting manual confirmation" filter
                fields=["order"],
                condition=Q(gateway="manual", status="pending"),
                name="payment_manual_pending_idx",
            ),
            models.Index(  # the reconciler's pending local wallet payments
                fields=["created_at"],
                condition=Q(gateway__in=LOCAL_WALLET_GATEWAYS, status="pending"),
                name="payment_wallet_pending_idx",
            ),
            models.Index(  # the reconciler's superseded wallet attempts still payable
                fields=["expires_at"],
                condition=Q(gateway__in=LOCAL_WALLET_GATEWAYS, status="cancelled"),
                name="payment_wallet_cancelled_idx",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_gateway_display()} {show_money(self.amount, self.currency)} ({self.status})"
        )


class Refund(models.Model):
    """A full or partial refund of a payment."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    TRANSITIONS = TransitionMap(Status, {Status.PENDING: {Status.SUCCEEDED, Status.FAILED}})

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds"
    )
    amount = money_field(verbose_name=_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason = models.CharField(verbose_name=_("reason"), max_length=200, blank=True)
    external_reference = models.CharField(
        verbose_name=_("external reference"), max_length=255, null=True, blank=True, unique=True
    )
    idempotency_key = models.CharField(
        verbose_name=_("idempotency key"), max_length=100, unique=True
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self):
        return f"Refund {show_money(self.amount, self.currency)} of payment #{self.payment_id}"
