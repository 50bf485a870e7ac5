"""Migration tools that keep the shop open while a migration runs on a busy PostgreSQL.

``AddIndexConcurrently`` builds an index without blocking writes, ``RemoveIndexConcurrently`` drops
one without waiting for an exclusive lock; ``update_in_batches`` fills a column in short
transactions. All need a migration with ``atomic = False``.
"""

from django.contrib.postgres.operations import (
    AddIndexConcurrently as PostgresAddIndexConcurrently,
)
from django.contrib.postgres.operations import (
    RemoveIndexConcurrently as PostgresRemoveIndexConcurrently,
)
from django.db import transaction
from django.db.migrations.operations import AddIndex, RemoveIndex

INDEX_VALID = """
SELECT pg_index.indisvalid FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
WHERE pg_class.relname = %s AND pg_table_is_visible(pg_class.oid)
"""


class _PlainElsewhere:
    """The concurrent operation on PostgreSQL; its plain counterpart (``plain``) elsewhere."""

    plain: type

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)
        else:
            self.forwards_on_postgresql(app_label, schema_editor, from_state, to_state)

    def forwards_on_postgresql(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)
        else:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AddIndexConcurrently(_PlainElsewhere, PostgresAddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL (writes go on); a plain ``AddIndex`` elsewhere.

    Running a migration that stopped half-way again finishes it: an index it already built is
    kept, and the invalid index an interrupted build leaves behind is dropped and built again.
    """

    plain = AddIndex

    def forwards_on_postgresql(self, app_label, schema_editor, from_state, to_state):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(INDEX_VALID, [self.index.name])
            found = cursor.fetchone()
        if found and found[0] and not schema_editor.collect_sql:
            return
        if found and not found[0]:
            name = schema_editor.quote_name(self.index.name)
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        super().forwards_on_postgresql(app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(_PlainElsewhere, PostgresRemoveIndexConcurrently):
    """``DROP INDEX CONCURRENTLY`` on PostgreSQL (reads and writes go on); a plain
    ``RemoveIndex`` elsewhere."""

    plain = RemoveIndex


def update_in_batches(queryset, batch_size=1000, **values):
    """``queryset.update(**values)`` in primary-key order, one short transaction per batch.

    Each batch re-applies the queryset's filter, so a row that changed meanwhile is left alone.
    Returns how many rows were updated.
    """
    updated, last = 0, None
    ordered = queryset.order_by("pk")
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:batch_size])
        if not pks:
            return updated
        with transaction.atomic(using=queryset.db):
            updated += queryset.filter(pk__in=pks).update(**values)
        last = pks[-1]
