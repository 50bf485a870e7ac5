# The index that finds a partner's newest wallet entry also holds its running balance, so the
# balance is read from the index alone (the admin's partner list and the dashboard annotate every
# partner with it). Built, and the old one dropped, concurrently: orders go on debiting wallets.

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0017_partner_list_indexes")]

    operations = [
        AddIndexConcurrently(
            model_name="walletentry",
            index=models.Index(
                fields=["partner", "-id"],
                include=["balance_after"],
                name="wallet_partner_newest_idx",
            ),
        ),
        RemoveIndexConcurrently(model_name="walletentry", name="wallet_entry_partner_id_idx"),
    ]
