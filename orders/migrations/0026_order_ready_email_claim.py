# The order-ready email's claim, and the sweep's lookup of customers' orders fulfilled lately.
# A nullable column is added without rewriting the table; the index is built concurrently.

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0025_local_wallet_indexes")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="ready_email_claimed_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When a worker took on the order-ready email; empty until then.",
                null=True,
                verbose_name="ready email claimed at",
            ),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(customer__isnull=False),
                fields=["fulfilled_at"],
                name="order_customer_fulfilled_idx",
            ),
        ),
    ]
