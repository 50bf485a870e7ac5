# The audit trail moves from the portal app to core: the table (portal_auditentry) stays as it
# is, only Django's state moves. The content type is renamed so existing permissions (and the
# staff groups that hold them) keep working.

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    old = ContentType.objects.using(db).filter(app_label="portal", model="auditentry")
    if ContentType.objects.using(db).filter(app_label="core", model="auditentry").exists():
        return
    old.update(app_label="core")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label="portal", model="auditentry").exists():
        return
    ContentType.objects.using(db).filter(app_label="core", model="auditentry").update(
        app_label="portal"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portal", "0003_admin_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor_label",
                            models.CharField(
                                blank=True,
                                help_text="Non-user actors: 'worker', 'partner:acme', …",
                                max_length=100,
                            ),
                        ),
                        ("action", models.CharField(max_length=100)),
                        ("target_id", models.CharField(max_length=64)),
                        ("target_repr", models.CharField(max_length=200)),
                        (
                            "before",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                encoder=django.core.serializers.json.DjangoJSONEncoder,
                            ),
                        ),
                        (
                            "after",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                encoder=django.core.serializers.json.DjangoJSONEncoder,
                            ),
                        ),
                        ("note", models.TextField(blank=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "target_type",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                to="contenttypes.contenttype",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "portal_auditentry",
                        "verbose_name_plural": "audit entries",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["target_type", "target_id", "created_at"],
                                name="portal_audi_target__59d3aa_idx",
                            ),
                            models.Index(fields=["action", "-created_at"], name="audit_action_idx"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
