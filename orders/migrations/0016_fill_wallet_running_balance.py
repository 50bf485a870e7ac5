"""Give every wallet entry written before running balances its ``balance_after``.

Not one transaction (``atomic = False``): partner by partner, batches of entries in id order,
each batch committed on its own under the partner's lock (``FOR NO KEY UPDATE``, as the wallet
service takes it), so a partner's orders wait at most one batch. ``update_in_batches`` does not
fit: each entry's value is the one before it plus its amount, carried here from batch to batch.
Entries the new release wrote meanwhile already have theirs and are left alone; an entry the
previous release writes after its partner was filled is left empty (the balance read falls back
to the ledger's sum) and ``audit_wallets --fill-missing`` fills it.
"""

from decimal import Decimal

from django.db import migrations, transaction

BATCH = 1000


def fill_running_balances(apps, schema_editor):
    Partner = apps.get_model("accounts", "Partner")
    WalletEntry = apps.get_model("orders", "WalletEntry")
    partner_ids = (
        WalletEntry.objects.filter(balance_after__isnull=True)
        .order_by("partner_id")
        .values_list("partner_id", flat=True)
        .distinct()
    )
    for partner_id in list(partner_ids):
        balance, last = Decimal(0), 0
        while True:
            with transaction.atomic():
                lock = Partner.objects.select_for_update(no_key=True).filter(pk=partner_id)
                list(lock.values_list("pk", flat=True))
                batch = list(
                    WalletEntry.objects.filter(partner_id=partner_id, pk__gt=last)
                    .order_by("pk")
                    .values_list("pk", "amount", "balance_after")[:BATCH]
                )
                if not batch:
                    break
                missing = []
                for pk, amount, stored in batch:
                    balance += amount
                    if stored is None:
                        missing.append(WalletEntry(pk=pk, balance_after=balance))
                WalletEntry.objects.bulk_update(missing, ["balance_after"])
                last = batch[-1][0]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_partner_webhooks_and_notifications_moved_to_orders"),
        ("orders", "0015_wallet_running_balance"),
    ]

    operations = [
        migrations.RunPython(fill_running_balances, migrations.RunPython.noop),
    ]
