# The reconciler's two lookups of JazzCash / Easypaisa attempts: pending ones whose callback is
# late, and superseded ones still payable until their expiry. Built concurrently: payments go on.

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently

WALLETS = ("jazzcash", "easypaisa")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0024_local_wallet_payments")]

    operations = [
        AddIndexConcurrently(
            model_name="payment",
            index=models.Index(
                fields=["created_at"],
                condition=models.Q(gateway__in=WALLETS, status="pending"),
                name="payment_wallet_pending_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="payment",
            index=models.Index(
                fields=["expires_at"],
                condition=models.Q(gateway__in=WALLETS, status="cancelled"),
                name="payment_wallet_cancelled_idx",
            ),
        ),
    ]
