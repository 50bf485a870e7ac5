"""The partner wallet: a ledger. The balance is the sum of entries, never a field of the partner.

Each entry also carries ``balance_after``, the running sum of the partner's entries up to and
including it in id order, written under the partner's lock (``orders.services.wallet``), so the
balance is one indexed row away. ``audit_wallets`` checks the running sums against the ledger.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.compiled import ScopedQuery
from core.indexes import NullsLastIndex
from core.models import AppendOnlyModel
from core.money import currency_field, money_field, show_money

# A partner's entries newest first, in the order only their newest-entry index holds.
NEWEST_FIRST = F("pk").desc(nulls_last=True)


class WalletEntry(AppendOnlyModel):
    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        ORDER_DEBIT = "order_debit", _("Order")
        ORDER_CREDIT = "order_credit", _("Order credited back")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Adjustment")

    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="wallet_entries",
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind.choices)
    amount = money_field(
        verbose_name=_("amount"), help_text=_("Positive credits the wallet, negative debits it.")
    )
    currency = currency_field(verbose_name=_("currency"))
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(verbose_name=_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    balance_after = money_field(
        verbose_name=_("balance after"),
        null=True,
        blank=True,
        help_text=_("The wallet balance right after this entry."),
    )

    class Meta:
        verbose_name = _("wallet entry")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("wallet entries")
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
            # A partner's newest entry and its running balance, read from this index alone
            # (NEWEST_FIRST asks for its order): never a backward walk of the primary key, which
            # reads the whole ledger for a partner without entries.
            NullsLastIndex(
                fields=["partner", "-id"],
                include=["balance_after"],
                name="wallet_partner_latest_idx",
            ),
        ]

    def __str__(self):
        return f"{self.partner} {self.get_kind_display()} {show_money(self.amount, self.currency)}"

    @classmethod
    def balance_of(cls, partner) -> Decimal:
        """The partner's balance: the newest entry's running balance (one indexed row).

        The sum of the ledger when the newest entry has none (written before running balances).
        """
        newest = NEWEST_ENTRY.rows(getattr(partner, "pk", partner))
        if not newest:
            return Decimal(0)
        balance = newest[0][1]
        return balance if balance is not None else cls.ledger_sum(partner)

    @classmethod
    def ledger_sum(cls, partner) -> Decimal:
        """The sum of all the partner's entries (what every running balance must add up to)."""
        total = cls.objects.filter(partner=partner).aggregate(total=Sum("amount"))["total"]
        return total or Decimal(0)

    @classmethod
    def balance_expression(cls):
        """Each row's balance, to annotate a partner queryset with (``balance_of`` in SQL).

        The newest entry's running balance, else (an entry written before running balances)
        the ledger's sum, else 0 (no entries). The sum sits inside the newest entry's subquery and
        ``COALESCE`` stops at the first value that is not null, so it only runs for a ledger whose
        newest entry has no running balance.
        """
        money = cls._meta.get_field("amount")
        total = (
            cls.objects.filter(partner=OuterRef("partner"))
            .order_by()
            .values("partner")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        newest = (
            cls.objects.filter(partner=OuterRef("pk"))
            .order_by(NEWEST_FIRST)
            .annotate(balance=Coalesce("balance_after", Subquery(total, output_field=money)))
            .values("balance")[:1]
        )
        return Coalesce(Subquery(newest, output_field=money), Value(Decimal(0)), output_field=money)


# A partner's newest entry (id, running balance): read on every wallet order, compiled once.
NEWEST_ENTRY = ScopedQuery(
    WalletEntry,
    lambda partner_id: (
        WalletEntry.objects.filter(partner_id=partner_id)
        .order_by(NEWEST_FIRST)
        .values_list("pk", "balance_after")[:1]
    ),
)
