"""The partner wallet ledger: debits, credits back, refunds and staff adjustments.

Every entry is written here, under the partner's lock, with ``balance_after``: the balance before
it (the newest entry's ``balance_after``) plus its amount. The lock makes the entries of one
partner commit in id order, so the newest entry's running balance is the balance.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Partner
from core import audit
from core.compiled import ScopedRows
from orders.models import Order, WalletEntry
from orders.partner_webhooks import services as partner_webhooks
from orders.services.errors import OrderError


def lock_partner(partner: Partner) -> Partner:
    """Lock the partner row: every ledger write for one partner happens one at a time.

    ``FOR NO KEY UPDATE``: a new order or ledger entry that refers to the partner (a key share
    lock) never waits on it, so two orders of one partner cannot deadlock (core/db.py).
    """
    return LOCKED_PARTNER.get(partner.pk)


LOCKED_PARTNER = ScopedRows(
    Partner, lambda pk: Partner.objects.select_for_update(no_key=True).filter(pk=pk)
)


def available_funds(partner: Partner) -> Decimal:
    """Balance plus credit limit."""
    return WalletEntry.balance_of(partner) + partner.credit_limit


def _append(*, partner: Partner, balance: Decimal, amount: Decimal, **fields) -> WalletEntry:
    """The new entry after ``balance``, which the caller read holding the partner's lock."""
    return WalletEntry.objects.create(
        partner=partner, amount=amount, balance_after=balance + amount, **fields
    )


@transaction.atomic
def record_entry(*, partner: Partner, amount: Decimal, **fields) -> WalletEntry:
    """Append an entry (``kind``, ``currency``, …) to the partner's ledger under its lock."""
    partner = lock_partner(partner)
    return _append(
        partner=partner, balance=WalletEntry.balance_of(partner), amount=amount, **fields
    )


def debit_for_order(*, order: Order, partner: Partner | None = None) -> WalletEntry:
    """Debit the order's total; the caller's transaction holds the order too, and the order's
    ``partner`` when given (as ``lock_partner`` returned it)."""
    partner = partner or lock_partner(order.partner)
    balance = WalletEntry.balance_of(partner)
    if balance + partner.credit_limit < order.total:
        raise OrderError(
            "insufficient_funds",
            _("Not enough wallet balance: %(total)s %(currency)s needed.")
            % {"total": order.total, "currency": order.currency},
        )
    entry = _append(
        partner=partner,
        balance=balance,
        kind=WalletEntry.Kind.ORDER_DEBIT,
        amount=-order.total,
        currency=order.currency,
        order=order,
        reason=f"Order {order.number}",
    )
    partner_webhooks.emit_low_balance_if_crossed(partner=partner, entry=entry)  # wallet.low_balance
    return entry


def credit_back_order(*, order: Order, reason: str) -> WalletEntry | None:
    """Return a failed or cancelled order's debit to the wallet, once."""
    with transaction.atomic():
        partner = lock_partner(order.partner)
        debit = WalletEntry.objects.filter(order=order, kind=WalletEntry.Kind.ORDER_DEBIT).first()
        if debit is None:
            return None
        try:
            with transaction.atomic():
                return _append(
                    partner=partner,
                    balance=WalletEntry.balance_of(partner),
                    kind=WalletEntry.Kind.ORDER_CREDIT,
                    amount=-debit.amount,
                    currency=debit.currency,
                    order=order,
                    reason=reason,
                )
        except IntegrityError:
            return None


@transaction.atomic
def adjust_wallet(
    *, partner: Partner, amount: Decimal, reason: str, actor, kind=WalletEntry.Kind.TOP_UP
) -> WalletEntry:
    """A staff credit (positive) or debit (negative) with a reason, logged."""
    if not reason.strip():
        raise OrderError("reason_required", _("Give a reason for the wallet change."))
    if amount == 0:
        raise OrderError("amount_zero", _("The amount cannot be zero."))
    partner = lock_partner(partner)
    entry = _append(
        partner=partner,
        balance=WalletEntry.balance_of(partner),
        kind=kind,
        amount=amount,
        currency=partner.currency,
        reason=reason,
        created_by=actor,
    )
    partner_webhooks.emit_low_balance_if_crossed(partner=partner, entry=entry)  # wallet.low_balance
    audit.record(
        action="wallet.adjusted",
        target=partner,
        actor=actor,
        after={"amount": str(amount), "kind": kind},
        note=reason,
    )
    return entry
