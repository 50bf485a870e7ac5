# Partner webhooks and notifications now belong to the orders app (orders 0012 takes over the
# same tables).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_notification_delivery'),
        ('orders', '0012_partner_webhooks_and_notifications'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='orderwebhooksecret',
                    name='partner',
                ),
                migrations.RemoveField(
                    model_name='webhookattempt',
                    name='delivery',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='endpoint',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='partner',
                ),
                migrations.RemoveField(
                    model_name='webhookendpoint',
                    name='partner',
                ),
                migrations.DeleteModel(
                    name='Notification',
                ),
                migrations.DeleteModel(
                    name='OrderWebhookSecret',
                ),
                migrations.DeleteModel(
                    name='WebhookAttempt',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
                migrations.DeleteModel(
                    name='WebhookEndpoint',
                ),
            ],
            database_operations=[],
        ),
    ]
