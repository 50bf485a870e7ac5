"""The built-in wallet fakes' own records: what the fake JazzCash / Easypaisa "knows".

Only the fakes (orders/payments/fakes/) read and write this table; the portal learns about a
transaction the way it does from the real gateway, through signed callbacks and the inquiry API.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FakeWalletTransaction(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the customer")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Declined")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")

    gateway = models.CharField(verbose_name=_("gateway"), max_length=20)
    reference = models.CharField(
        verbose_name=_("merchant reference"),
        max_length=50,
        help_text=_("The merchant's reference for the attempt (pp_TxnRefNo, orderRefNum)."),
    )
    transaction_id = models.CharField(
        verbose_name=_("wallet transaction ID"), max_length=50, unique=True
    )
    amount_minor = models.PositiveBigIntegerField(verbose_name=_("amount (paisa)"))
    currency = models.CharField(verbose_name=_("currency"), max_length=3, default="PKR")
    mobile_number = models.CharField(verbose_name=_("wallet number"), max_length=20, blank=True)
    status = models.CharField(
        verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    refunded_minor = models.PositiveBigIntegerField(verbose_name=_("refunded (paisa)"), default=0)
    return_url = models.URLField(verbose_name=_("return URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("fake wallet transaction")
        verbose_name_plural = _("fake wallet transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "reference"], name="fake_wallet_reference_unique"
            )
        ]

    def __str__(self):
        return f"{self.gateway} {self.reference} ({self.status})"
