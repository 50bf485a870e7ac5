# Wallet entries get a running balance (nullable: the previous release goes on inserting without
# it during a rollout) and the index that finds a partner's newest entry. Built concurrently on
# PostgreSQL, so orders keep debiting wallets meanwhile; 0016 fills the column.

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_partner_webhooks_and_notifications_moved_to_orders"),
        ("orders", "0014_provisioning_attempt_error_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="walletentry",
            name="balance_after",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="The wallet balance right after this entry.",
                max_digits=14,
                null=True,
            ),
        ),
        AddIndexConcurrently(
            model_name="walletentry",
            index=models.Index(fields=["partner", "-id"], name="wallet_entry_partner_id_idx"),
        ),
    ]
