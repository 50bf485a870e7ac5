# The index behind /metrics' provider errors. Built concurrently on PostgreSQL, so provisioning
# keeps writing attempts while it is built (a plain index on SQLite).

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0013_usage_sync_claims"),
        ("plans", "0005_sandboxorder_top_up"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="provisioningattempt",
            index=models.Index(
                condition=models.Q(("outcome__in", ["transient_error", "permanent_error"])),
                fields=["finished_at"],
                name="attempt_error_finished_idx",
            ),
        ),
    ]
