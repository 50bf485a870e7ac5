"""List filters over big tables' text columns: every value from an index, or the recent ones."""

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core import audit
from core.admin import filters as admin_filters
from core.admin.filters import distinct_values
from core.models import AuditEntry
from plans.models import ProviderCall
from tests.factories import AuditEntryFactory, OrderFactory, ProviderFactory


def filter_choices(client, model, field: str, **params) -> list[str]:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client.get(url, params)
    assert response.status_code == 200
    changelist = response.context["cl"]
    [spec] = [s for s in changelist.filter_specs if getattr(s, "field_path", None) == field]
    return [str(choice["display"]) for choice in spec.choices(changelist)][1:]  # after "All"


def test_distinct_values_walks_the_column_in_order(db):
    order = OrderFactory()
    for action in ["b.second", "a.first", "b.second", "c.third"]:
        audit.record(action=action, target=order)
    assert distinct_values(AuditEntry, "action", connection.alias) == [
        "a.first",
        "b.second",
        "c.third",
    ]


def test_distinct_values_stops_at_the_limit(db, monkeypatch):
    monkeypatch.setattr(admin_filters, "MAX_CHOICES", 2)
    order = OrderFactory()
    for action in ["a", "b", "c"]:
        audit.record(action=action, target=order)
    assert distinct_values(AuditEntry, "action", connection.alias) == ["a", "b"]


def test_the_audit_trail_filters_by_every_action(client, signed_in_superuser):
    AuditEntryFactory(action="admin.plan.changed")  # another kind of row, about another target
    order = OrderFactory()
    for action in ["order.placed", "order.status", "order.placed"]:
        audit.record(action=action, target=order)
    every_action = sorted(set(AuditEntry.objects.values_list("action", flat=True)))
    assert {"order.placed", "order.status"} < set(every_action)
    assert filter_choices(client, AuditEntry, "action") == every_action


def test_provider_calls_filter_by_recent_operations_and_the_chosen_one(
    client, signed_in_superuser, monkeypatch
):
    monkeypatch.setattr(admin_filters, "RECENT_ROWS", 2)
    provider = ProviderFactory()
    for operation in ["token", "issue", "usage"]:
        ProviderCall.objects.create(
            provider=provider,
            operation=operation,
            method="POST",
            path="/",
            outcome="ok",
            latency_ms=1,
            started_at=timezone.now(),
        )
    assert filter_choices(client, ProviderCall, "operation") == ["issue", "usage"]
    chosen = filter_choices(client, ProviderCall, "operation", operation="token")
    assert chosen == ["issue", "token", "usage"]
