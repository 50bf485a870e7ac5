"""The wallet's running balance: written with every entry, read in one row, audited."""

import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, WalletEntry
from orders.services.placing import place_purchase
from orders.services.refunds import refund_order
from orders.services.wallet import adjust_wallet, credit_back_order
from orders.services.wallet_audit import audit_partner, fill_missing_balances
from tests.factories import PartnerFactory, WalletEntryFactory
from tests.worlds import PARTNER_OPENING_BALANCE

pytestmark = pytest.mark.django_db
migration = importlib.import_module("orders.migrations.0016_fill_wallet_running_balance")


def chain(partner) -> list[tuple[Decimal, Decimal | None]]:
    """``(cumulative sum, stored running balance)`` of each entry in id order."""
    total, found = Decimal(0), []
    for amount, stored in (
        WalletEntry.objects.filter(partner=partner)
        .order_by("pk")
        .values_list("amount", "balance_after")
    ):
        total += amount
        found.append((total, stored))
    return found


def assert_chain_is_whole(partner):
    rows = chain(partner)
    assert rows and all(total == stored for total, stored in rows), rows
    assert WalletEntry.balance_of(partner) == WalletEntry.ledger_sum(partner) == rows[-1][0]


def audit(*args) -> tuple[int, str]:
    """Run ``audit_wallets``: the exit code it gives the shell and what it printed."""
    out = StringIO()
    try:
        call_command("audit_wallets", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


def test_every_writer_continues_the_running_balance(world_partner, esim_plan):
    placed = place_purchase(plan=esim_plan, partner=world_partner, quantity=2)
    failed = place_purchase(plan=esim_plan, partner=world_partner)
    credit_back_order(order=failed, reason="could not provision")
    refunded = place_purchase(plan=esim_plan, partner=world_partner)
    Order.objects.filter(pk=refunded.pk).update(status=Order.Status.NEEDS_ATTENTION)
    refund_order(order=refunded, reason="could not provision")
    adjust_wallet(partner=world_partner, amount=Decimal("-12.5"), reason="fee", actor=None)
    WalletEntryFactory(partner=world_partner, amount=Decimal("99.99"))

    assert_chain_is_whole(world_partner)
    expected = PARTNER_OPENING_BALANCE - placed.total - Decimal("12.5") + Decimal("99.99")
    assert WalletEntry.balance_of(world_partner) == expected
    assert audit() == (0, "1 partners audited, 0 mismatches\n")


def test_placing_a_partner_order_never_sums_the_ledger(world_partner, esim_plan):
    WalletEntryFactory.create_batch(3, partner=world_partner, amount=Decimal("-1"))
    with CaptureQueriesContext(connection) as queries:
        place_purchase(plan=esim_plan, partner=world_partner)
    table = WalletEntry._meta.db_table
    sums = [q["sql"] for q in queries if table in q["sql"] and "SUM(" in q["sql"].upper()]
    assert sums == []
    assert_chain_is_whole(world_partner)


def test_a_ledger_written_before_running_balances_is_summed_then_continued(world_partner):
    WalletEntry.objects.bulk_create(  # as the previous release wrote them: no running balance
        WalletEntry(partner=world_partner, kind="adjustment", amount=Decimal(-10), currency="PKR")
        for _ in range(3)
    )
    assert WalletEntry.balance_of(world_partner) == PARTNER_OPENING_BALANCE - 30

    entry = adjust_wallet(partner=world_partner, amount=Decimal(5), reason="top-up", actor=None)

    assert entry.balance_after == PARTNER_OPENING_BALANCE - 25
    assert WalletEntry.balance_of(world_partner) == PARTNER_OPENING_BALANCE - 25
    code, out = audit()
    assert code == 1 and out.count("has no running balance") == 3
    assert fill_missing_balances(world_partner) == 3
    assert_chain_is_whole(world_partner)
    assert audit() == (0, "1 partners audited, 0 mismatches\n")


def test_the_audit_fills_running_balances_an_older_release_left_empty(world_partner):
    WalletEntry.objects.bulk_create(
        [WalletEntry(partner=world_partner, kind="top_up", amount=Decimal(7), currency="PKR")]
    )
    code, out = audit("--fill-missing")
    assert code == 0 and "1 running balances filled" in out
    assert_chain_is_whole(world_partner)


def test_the_audit_fails_on_a_corrupted_running_balance(world_partner):
    other = PartnerFactory()
    WalletEntryFactory(partner=other, amount=Decimal(100))
    entries = [
        adjust_wallet(partner=world_partner, amount=Decimal(a), reason="test", actor=None)
        for a in ("-100", "50", "-25")
    ]
    WalletEntry.objects.filter(pk=entries[1].pk).update(balance_after=Decimal("1"))  # corrupted

    code, out = audit()

    assert code == 1
    due = PARTNER_OPENING_BALANCE - 50
    assert (
        f"entry {entries[1].pk} has running balance 1.0000, the ledger up to it sums to {due}"
        in out
    )
    assert out.endswith("2 partners audited, 1 mismatches\n")
    assert audit_partner(other) == []


def test_the_audit_compares_the_newest_running_balance_with_the_ledgers_sum(world_partner):
    newest = adjust_wallet(partner=world_partner, amount=Decimal(-1), reason="test", actor=None)
    WalletEntry.objects.filter(pk=newest.pk).update(balance_after=Decimal(0))

    found = audit_partner(world_partner)

    assert [m.entry_id for m in found] == [newest.pk, None]
    assert "newest running balance 0.0000, the ledger sums to 49999.0000" in str(found[1])
    assert audit()[0] == 1


def test_the_migration_fills_each_partners_running_balance_in_batches(world_partner, monkeypatch):
    other = PartnerFactory()
    amounts = [Decimal(a) for a in ("100", "-30", "20.5", "-0.5", "7")]
    for partner in (world_partner, other):
        WalletEntry.objects.bulk_create(
            WalletEntry(partner=partner, kind="adjustment", amount=a, currency="PKR")
            for a in amounts
        )
    kept = adjust_wallet(partner=other, amount=Decimal(1), reason="new release", actor=None)
    WalletEntry.objects.exclude(pk=kept.pk).update(balance_after=None)
    monkeypatch.setattr(migration, "BATCH", 2)

    migration.fill_running_balances(apps, None)

    assert_chain_is_whole(world_partner)
    assert_chain_is_whole(other)
    assert WalletEntry.balance_of(other) == sum(amounts) + 1
