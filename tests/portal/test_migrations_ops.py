"""The migration tools: batched updates, and concurrent indexes that finish an interrupted build."""

import pytest
from django.db import IntegrityError, connection, models
from django.db.migrations.state import ProjectState

from core.migrations_ops import AddIndexConcurrently, update_in_batches
from orders.models import WebhookEvent
from tests.factories import WebhookEventFactory

INDEX = models.Index(fields=["event_type", "outcome"], name="webhook_event_ops_test_idx")


def events(count: int, **fields) -> list[WebhookEvent]:
    return [WebhookEventFactory(event_id=f"evt-{n}", **fields) for n in range(count)]


@pytest.mark.django_db
def test_update_in_batches_updates_every_matching_row_and_no_other():
    pending = events(7, outcome="pending")
    failed = WebhookEventFactory(event_id="evt-failed", outcome="failed")

    updated = update_in_batches(
        WebhookEvent.objects.filter(outcome="pending"), batch_size=3, outcome="applied"
    )

    assert updated == 7
    assert set(WebhookEvent.objects.filter(outcome="applied")) == set(pending)
    failed.refresh_from_db()
    assert failed.outcome == "failed"


def index_names() -> dict[str, bool]:
    """The webhook event table's indexes here: name → valid (always valid off PostgreSQL)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WebhookEvent._meta.db_table)
        if connection.vendor != "postgresql":
            return {name: True for name, c in constraints.items() if c["index"]}
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass",
            [WebhookEvent._meta.db_table],
        )
        return dict(cursor.fetchall())


def apply(operation, backwards=False):
    state = ProjectState.from_apps(WebhookEvent._meta.apps)
    new_state = state.clone()
    operation.state_forwards("orders", new_state)
    with connection.schema_editor(atomic=False) as editor:
        if backwards:
            operation.database_backwards("orders", editor, new_state, state)
        else:
            operation.database_forwards("orders", editor, state, new_state)


@pytest.mark.django_db(transaction=True)
def test_the_index_is_built_and_removed_on_any_database():
    operation = AddIndexConcurrently(model_name="webhookevent", index=INDEX)

    apply(operation)
    assert index_names().get(INDEX.name) is True
    apply(operation, backwards=True)
    assert INDEX.name not in index_names()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_interrupted_build_is_finished_by_running_it_again():
    events(2, event_type="same")  # the same event type and outcome twice
    broken = f'CREATE UNIQUE INDEX CONCURRENTLY "{INDEX.name}" ON "orders_webhookevent" '
    with (
        connection.cursor() as cursor,
        pytest.raises(IntegrityError, match="could not create unique index"),
    ):
        cursor.execute(broken + '("event_type", "outcome")')
    assert index_names()[INDEX.name] is False

    apply(AddIndexConcurrently(model_name="webhookevent", index=INDEX))
    assert index_names()[INDEX.name] is True

    apply(AddIndexConcurrently(model_name="webhookevent", index=INDEX))  # e.g. migrate again
    assert index_names()[INDEX.name] is True
    apply(AddIndexConcurrently(model_name="webhookevent", index=INDEX), backwards=True)
