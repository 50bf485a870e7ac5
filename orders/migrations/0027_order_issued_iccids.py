# The ICCIDs an order issued, kept on the order with its fulfilment: the partner API's order
# list reads them with the order's row instead of a subquery per order. A nullable column is
# added without rewriting the table; orders fulfilled before it are filled in batches (rows
# left empty, e.g. by a worker still running the previous release, read them from their SIMs).

from django.db import migrations, models

BATCH = 5000
FILL = {
    "postgresql": """
        UPDATE orders_order SET issued_iccids = array_to_string(ARRAY(
            SELECT iccid FROM orders_sim WHERE issued_by_order_id = orders_order.id ORDER BY id
        ), ' ')
        WHERE id >= %s AND id < %s AND fulfilled_at IS NOT NULL AND issued_iccids IS NULL
    """,
    "sqlite": """
        UPDATE orders_order SET issued_iccids = COALESCE((SELECT group_concat(iccid, ' ') FROM (
            SELECT iccid FROM orders_sim WHERE issued_by_order_id = orders_order.id ORDER BY id
        )), '')
        WHERE id >= %s AND id < %s AND fulfilled_at IS NOT NULL AND issued_iccids IS NULL
    """,
}


def record_issued_iccids(apps, schema_editor):
    connection = schema_editor.connection
    sql = FILL.get(connection.vendor)
    if sql is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM orders_order")
        last = cursor.fetchone()[0] or 0
        for start in range(1, last + 1, BATCH):
            cursor.execute(sql, [start, start + BATCH])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0026_order_ready_email_claim")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="issued_iccids",
            field=models.TextField(
                blank=True,
                editable=False,
                help_text="The ICCIDs of the SIMs it issued, oldest first, separated by spaces "
                "(empty: none), recorded with its fulfilment; unknown before.",
                null=True,
                verbose_name="issued ICCIDs",
            ),
        ),
        migrations.RunPython(record_issued_iccids, migrations.RunPython.noop, elidable=True),
    ]
