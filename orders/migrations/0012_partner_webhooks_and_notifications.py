# Partner webhooks (endpoints, deliveries, attempts, the order webhook secret) and the
# notifications about SIMs move from the accounts app to orders: the tables (accounts_*) stay as
# they are, only Django's state moves. The content types are renamed so existing permissions (and
# the staff groups that hold them) keep working.

import django.db.models.deletion
import orders.models.partner_webhooks
from django.conf import settings
from django.db import migrations, models


MOVED = ["webhookendpoint", "orderwebhooksecret", "webhookdelivery", "webhookattempt", "notification"]


def _move_content_types(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            continue
        ContentType.objects.using(db).filter(app_label=source, model=model).update(
            app_label=target
        )


def rename_content_types(apps, schema_editor):
    _move_content_types(apps, schema_editor, "accounts", "orders")


def restore_content_types(apps, schema_editor):
    _move_content_types(apps, schema_editor, "orders", "accounts")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_notification_delivery'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('orders', '0011_durable_retries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OrderWebhookSecret',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('secret', models.CharField(default=orders.models.partner_webhooks.new_webhook_secret, editable=False, max_length=100)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('partner', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='order_webhook_secret', to='accounts.partner')),
                    ],
                    options={
                        'db_table': 'accounts_orderwebhooksecret',
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=500, validators=[orders.models.partner_webhooks.validate_webhook_url], verbose_name='URL')),
                        ('secret', models.CharField(default=orders.models.partner_webhooks.new_webhook_secret, editable=False, max_length=100)),
                        ('events', models.JSONField(blank=True, default=list, help_text='Event types sent; empty: all.', verbose_name='events')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('disabled_reason', models.CharField(blank=True, max_length=200, verbose_name='why disabled')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to='accounts.partner')),
                    ],
                    options={
                        'verbose_name': 'webhook endpoint',
                        'verbose_name_plural': 'webhook endpoints',
                        'db_table': 'accounts_webhookendpoint',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.CharField(max_length=500, verbose_name='URL')),
                        ('event_id', models.UUIDField(db_index=True, verbose_name='event id')),
                        ('event_type', models.CharField(choices=[('order.fulfilled', 'Order fulfilled'), ('order.failed', 'Order needs attention'), ('sim.low_data', 'SIM low on data'), ('sim.expiring', 'SIM expiring'), ('replacement.approved', 'Replacement approved'), ('replacement.rejected', 'Replacement rejected'), ('wallet.low_balance', 'Wallet balance low')], max_length=40, verbose_name='event')),
                        ('payload', models.JSONField()),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('failed', 'Failed, will retry'), ('succeeded', 'Delivered'), ('abandoned', 'Abandoned')], default='pending', max_length=20, verbose_name='status')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                        ('claimed_until', models.DateTimeField(blank=True, help_text='A worker has this delivery until then.', null=True)),
                        ('last_status_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='last status')),
                        ('last_duration_ms', models.PositiveIntegerField(blank=True, null=True, verbose_name='last duration (ms)')),
                        ('last_error', models.CharField(blank=True, max_length=500, verbose_name='last error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='delivered')),
                        ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_deliveries', to='accounts.partner')),
                        ('endpoint', models.ForeignKey(blank=True, help_text="Empty: sent to the order's own webhook URL.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='orders.webhookendpoint')),
                    ],
                    options={
                        'verbose_name': 'webhook delivery',
                        'verbose_name_plural': 'webhook deliveries',
                        'db_table': 'accounts_webhookdelivery',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('expiry_3d', 'SIM expires in 3 days'), ('expiry_1d', 'SIM expires in 1 day'), ('expired', 'SIM expired'), ('data_80', 'Data running low'), ('data_100', 'All data used'), ('auto_renew_failed', 'Automatic renewal failed')], max_length=30)),
                        ('period_key', models.CharField(help_text="Identifies the SIM's period (its expiry time).", max_length=64)),
                        ('period_end', models.DateTimeField(blank=True, help_text="The SIM's expiry time this reminder was about.", null=True)),
                        ('channels', models.JSONField(blank=True, default=list)),
                        ('error', models.TextField(blank=True)),
                        ('title', models.CharField(max_length=200)),
                        ('body', models.TextField()),
                        ('run_id', models.UUIDField(blank=True, editable=False, help_text='The sweep that holds the claim.', null=True)),
                        ('claimed_at', models.DateTimeField(blank=True, editable=False, help_text='When the last send attempt was claimed; empty when none is pending.', null=True)),
                        ('claims', models.PositiveSmallIntegerField(default=0, editable=False)),
                        ('sent_at', models.DateTimeField(blank=True, editable=False, help_text='When delivery finished (each channel sent, or failed for good).', null=True)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('partner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='accounts.partner')),
                        ('sim', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orders.sim')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_notification',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['user', '-created_at'], name='accounts_no_user_id_b37b35_idx'), models.Index(fields=['-created_at', '-id'], name='notification_created_idx'), models.Index(condition=models.Q(('read_at__isnull', True)), fields=['user'], name='notification_unread_idx'), models.Index(condition=models.Q(('claimed_at__isnull', False), ('sent_at__isnull', True)), fields=['claimed_at'], name='notification_unsent_idx')],
                        'constraints': [models.UniqueConstraint(fields=('sim', 'kind', 'period_key'), name='notification_once_per_sim_period')],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveSmallIntegerField(verbose_name='number')),
                        ('url', models.CharField(max_length=500, verbose_name='URL')),
                        ('outcome', models.CharField(choices=[('in_progress', 'In progress'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='in_progress', max_length=20, verbose_name='outcome')),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='status code')),
                        ('duration_ms', models.PositiveIntegerField(blank=True, null=True, verbose_name='duration (ms)')),
                        ('error', models.CharField(blank=True, max_length=500, verbose_name='error')),
                        ('started_at', models.DateTimeField(verbose_name='started')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='orders.webhookdelivery')),
                    ],
                    options={
                        'verbose_name': 'webhook attempt',
                        'verbose_name_plural': 'webhook attempts',
                        'db_table': 'accounts_webhookattempt',
                        'ordering': ['delivery', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('delivery', 'number'), name='webhook_attempt_number_per_delivery')],
                    },
                ),
                migrations.AddIndex(
                    model_name='webhookendpoint',
                    index=models.Index(fields=['partner', '-created_at'], name='accounts_we_partner_0a8c08_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['partner', '-created_at'], name='accounts_we_partner_292f06_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['endpoint', '-created_at'], name='accounts_we_endpoin_743bd8_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['-created_at', '-id'], name='webhook_delivery_created_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(condition=models.Q(('status__in', ['pending', 'failed'])), fields=['next_attempt_at'], name='webhook_delivery_due'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
