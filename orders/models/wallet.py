"""The partner wallet: a ledger. The balance is the sum of entries, never a field."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from core.money import currency_field, money_field


class WalletEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        ORDER_DEBIT = "order_debit", _("Order")
        ORDER_CREDIT = "order_credit", _("Order credited back")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Adjustment")

    partner = models.ForeignKey(
        "accounts.Partner", on_delete=models.PROTECT, related_name="wallet_entries"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = money_field(help_text=_("Positive credits the wallet, negative debits it."))
    currency = currency_field()
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "wallet entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="wallet_entry_not_zero"),
            # An order is debited once and credited back at most once.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(kind__in=["order_debit", "order_credit"]),
                name="wallet_entry_once_per_order_and_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "-created_at"]),
            models.Index(fields=["-created_at", "-id"], name="wallet_entry_created_idx"),
        ]

    def __str__(self):
        return f"{self.partner} {self.get_kind_display()} {self.currency} {self.amount}"

    @classmethod
    def balance_of(cls, partner) -> Decimal:
        """The partner's balance: the sum of its entries."""
        return cls.objects.filter(partner=partner).aggregate(total=Sum("amount"))[
            "total"
        ] or Decimal(0)
