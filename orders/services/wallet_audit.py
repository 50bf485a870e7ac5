"""Check each partner's running balances against its ledger, and fill the ones never written.

The audit reads without locking: the walk is one query (one snapshot) and the sum stops at the
last entry walked, so an order placed meanwhile neither hides nor invents a mismatch.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from accounts.models import Partner
from core.money import MONEY_DECIMAL_PLACES
from orders.models import WalletEntry
from orders.services.wallet import lock_partner

WALK_CHUNK = 2000


@dataclass(frozen=True)
class Mismatch:
    partner: Partner
    entry_id: int | None  # None: the newest running balance against the ledger's sum
    stored: Decimal | None
    expected: Decimal

    def __str__(self):
        who = f"partner {self.partner.slug} (id {self.partner.pk})"
        stored, expected = _money(self.stored), _money(self.expected)
        if self.entry_id is None:
            return f"{who}: newest running balance {stored}, the ledger sums to {expected}"
        if self.stored is None:
            return f"{who}: entry {self.entry_id} has no running balance ({expected} due)"
        return (
            f"{who}: entry {self.entry_id} has running balance {stored}, "
            f"the ledger up to it sums to {expected}"
        )


def _money(value: Decimal | None) -> str:
    return "none" if value is None else f"{value:.{MONEY_DECIMAL_PLACES}f}"


def _walk(partner: Partner):
    """``(pk, amount, balance_after, cumulative sum)`` of the partner's entries in id order."""
    total = Decimal(0)
    entries = (
        WalletEntry.objects.filter(partner=partner)
        .order_by("pk")
        .values_list("pk", "amount", "balance_after")
    )
    for pk, amount, stored in entries.iterator(chunk_size=WALK_CHUNK):
        total += amount
        yield pk, amount, stored, total


def audit_partner(partner: Partner) -> list[Mismatch]:
    """Entries whose running balance is not the sum up to them, and the newest against SUM."""
    found, last = [], None
    for pk, _amount, stored, total in _walk(partner):
        if stored != total:
            found.append(Mismatch(partner, pk, stored, total))
        last = (pk, stored)
    if last is not None:
        ledger = WalletEntry.objects.filter(partner=partner, pk__lte=last[0])
        total = ledger.aggregate(total=Sum("amount"))["total"]
        if last[1] != total:
            found.append(Mismatch(partner, None, last[1], total))
    return found


def partners_with_entries():
    return Partner.objects.filter(pk__in=WalletEntry.objects.values("partner")).order_by("pk")


@transaction.atomic
def fill_missing_balances(partner: Partner) -> int:
    """Give entries written without a running balance (by an older release) theirs; how many.

    Only empty ones are written (the ledger stays append-only); under the partner's lock.
    """
    lock_partner(partner)
    missing = [
        WalletEntry(pk=pk, balance_after=total)
        for pk, _amount, stored, total in _walk(partner)
        if stored is None
    ]
    WalletEntry.objects.bulk_update(missing, ["balance_after"], batch_size=WALK_CHUNK)
    return len(missing)
