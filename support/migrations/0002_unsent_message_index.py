# The messages whose email is still to be sent, for the periodic sweep (support.tasks).

from django.db import migrations, models

from core.migrations_ops import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("support", "0001_initial")]

    operations = [
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                condition=models.Q(("internal", False), ("notified_at__isnull", True)),
                fields=["created_at"],
                name="support_message_unsent_idx",
            ),
        ),
    ]
