# The newest-entry index again, its id descending with nulls last on PostgreSQL: the balance
# queries ask for that order, which the primary key cannot give, so the planner reads each
# partner's newest entry from this index whatever its statistics say (with the old index it could
# still walk the primary key backwards, through the whole ledger for a partner without entries).

from django.db import migrations

import core.indexes
from core.migrations_ops import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0018_wallet_newest_entry_index")]

    operations = [
        AddIndexConcurrently(
            model_name="walletentry",
            index=core.indexes.NullsLastIndex(
                fields=["partner", "-id"],
                include=["balance_after"],
                name="wallet_partner_latest_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="walletentry", name="wallet_partner_newest_idx"),
    ]
