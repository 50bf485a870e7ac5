# Partner webhooks for a replacement card sent by post: shipped, then activated (new choices).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0027_order_issued_iccids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="event_type",
            field=models.CharField(
                choices=[
                    ("order.fulfilled", "Order fulfilled"),
                    ("order.failed", "Order needs attention"),
                    ("sim.low_data", "SIM low on data"),
                    ("sim.expiring", "SIM expiring"),
                    ("replacement.approved", "Replacement approved"),
                    ("replacement.rejected", "Replacement rejected"),
                    ("replacement.shipped", "Replacement SIM card shipped"),
                    ("replacement.activated", "Replacement SIM card activated"),
                    ("wallet.low_balance", "Wallet balance low"),
                ],
                max_length=40,
                verbose_name="event",
            ),
        ),
    ]
