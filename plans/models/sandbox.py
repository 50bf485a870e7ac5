"""The built-in sandbox upstream's own records: what "the other side" has seen and accepted."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import currency_field, money_field
from core.saves import CompiledSaves


class SandboxOrder(CompiledSaves):
    """One upstream order per request reference, as the sandbox provider keeps it.

    A row appears on the first call with a reference and counts every call after it;
    ``accepted_at`` is set once the upstream has taken the order (a transient failure before
    that leaves a row that was never accepted). Accepted rows never change their request fields.
    A renewal or top-up row keeps the data it added and the profile's expiry after it.
    """

    class Operation(models.TextChoices):
        ISSUE = "issue", _("Issue eSIM")
        RENEW = "renew", _("Renew eSIM")
        RECHARGE = "recharge", _("Recharge")
        CANCEL = "cancel", _("Cancel eSIM")
        TOP_UP = "top_up", _("Top up eSIM")

    reference = models.CharField(verbose_name=_("reference"), max_length=100)
    operation = models.CharField(
        verbose_name=_("operation"), max_length=10, choices=Operation.choices
    )
    iccid = models.CharField(verbose_name=_("ICCID"), max_length=22, blank=True, db_index=True)
    msisdn = models.CharField(verbose_name=_("MSISDN"), max_length=16, blank=True)
    plan_sku = models.CharField(verbose_name=_("plan SKU"), max_length=100, blank=True)
    amount = money_field(verbose_name=_("amount"), null=True, blank=True)
    currency = currency_field(verbose_name=_("currency"), blank=True)
    data_mb = models.PositiveIntegerField(
        verbose_name=_("data (MB)"),
        null=True,
        blank=True,
        help_text=_("Empty: unlimited; 0: no data."),
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"), null=True, blank=True)
    calls = models.PositiveIntegerField(verbose_name=_("calls"), default=0)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    accepted_at = models.DateTimeField(verbose_name=_("accepted at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(verbose_name=_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox order")
        verbose_name_plural = _("sandbox orders")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="sandbox_order_reference_unique")
        ]

    def __str__(self):
        return f"{self.get_operation_display()} {self.reference}"
