# The index behind /metrics' provider errors. Built concurrently on PostgreSQL, so provisioning
# keeps writing attempts while it is built (a plain index on SQLite).

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("orders", "0013_usage_sync_claims"),
        ("plans", "0005_sandboxorder_top_up"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="provisioningattempt",
            index=models.Index(
                condition=models.Q(("outcome__in", ["transient_error", "permanent_error"])),
                fields=["finished_at"],
                name="attempt_error_finished_idx",
            ),
        ),
    ]
