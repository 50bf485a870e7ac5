"""Catalog sync: preview, apply (audited, never deleting), the command and the admin page."""

from dataclasses import replace
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.roles import SUPPORT, sync_staff_roles
from core.audit import entries_for
from core.models import AuditEntry
from orders.models import Order
from plans.models import Period, Plan, PlanKind
from plans.providers import PermanentProviderError
from plans.providers.sandbox import SandboxAdapter
from plans.services import catalog_sync
from plans.services.catalog_sync import CatalogSyncError, StaleSyncPlan, SyncResult
from tests.factories import (
    OperatorFactory,
    OrderFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
    UserFactory,
)
from tests.staff import login_staff

pytestmark = pytest.mark.django_db

NEW_ITEM = {
    "sku": "jazz-esim-day-5gb",
    "name": "Jazz Daily 5 GB",
    "kind": "esim",
    "operator_code": "jazz",
    "cost": "180.50",
    "cost_currency": "PKR",
    "validity_days": 1,
    "data_mb": 5120,
}


@pytest.fixture
def provider():
    OperatorFactory(code="jazz", name="Jazz")
    OperatorFactory(code="zong", name="Zong")
    return ProviderFactory()


@pytest.fixture
def plans(provider):
    """Our plans: one the upstream keeps, one it changes, one it stops selling (with an order)."""
    kept = PlanFactory(provider=provider, provider_sku="jazz-esim-week-10gb", name="Jazz Weekly")
    changed = PlanFactory(
        provider=provider, provider_sku="jazz-esim-week-20gb", name="Ours", name_zh="我们的"
    )
    PlanPriceFactory(plan=changed)
    gone = PlanFactory(provider=provider, provider_sku="jazz-esim-old")
    OrderFactory(plan=gone)
    return {"kept": kept, "changed": changed, "gone": gone}


def upstream(provider, catalog=(), withdrawn=(), **options):
    """Make the sandbox sell something else from now on."""
    provider.settings = {"catalog": list(catalog), "catalog_withdrawn": list(withdrawn), **options}
    provider.save()


def changed_upstream(provider):
    upstream(
        provider,
        catalog=[
            NEW_ITEM,
            {"sku": "jazz-esim-week-20gb", "cost": "480", "validity_days": 30},
            {**NEW_ITEM, "sku": "ufone-esim-1", "operator_code": "ufone"},
            {**NEW_ITEM, "sku": "jazz-esim-cheap", "cost": "-1"},
            {**NEW_ITEM, "sku": "jazz-tv", "kind": "tv"},
        ],
        withdrawn=["jazz-esim-old"],
    )


def test_sandbox_catalog_is_our_plans_with_the_options_applied(provider, plans):
    assert [i.sku for i in SandboxAdapter(provider).list_catalog()] == sorted(
        p.provider_sku for p in plans.values()
    )
    changed_upstream(provider)
    items = {i.sku: i for i in SandboxAdapter(provider).list_catalog()}
    assert "jazz-esim-old" not in items
    assert items["jazz-esim-week-20gb"].cost == Decimal("480")
    assert items["jazz-esim-week-20gb"].name == "Ours"  # only the fields given change
    assert items["jazz-esim-day-5gb"].data_mb == 5120


@pytest.mark.parametrize(
    "entry", [{"name": "no sku"}, {"sku": "x", "colour": "red"}, {"sku": "x", "cost": "abc"}, "x"]
)
def test_malformed_sandbox_catalog_is_a_clear_error(provider, entry):
    upstream(provider, catalog=[entry])
    with pytest.raises(CatalogSyncError, match="malformed catalog entry"):
        catalog_sync.preview(provider=provider)


def test_preview_lists_new_changed_disappeared_and_skipped_and_changes_nothing(provider, plans):
    changed_upstream(provider)
    sync_plan = catalog_sync.preview(provider=provider)

    assert [n.item.sku for n in sync_plan.new] == ["jazz-esim-day-5gb"]
    assert sync_plan.new[0].item.cost == Decimal("180.5")
    [change] = sync_plan.changed
    assert change.plan == plans["changed"] and not change.reactivate
    assert change.fields == {
        "cost": (Decimal("450"), Decimal("480")),
        "validity_days": (7, 30),
        "period": (Period.WEEKLY, Period.MONTHLY),
    }
    assert sync_plan.deactivated == [plans["gone"]]
    reasons = {s.sku: s.reason for s in sync_plan.skipped}
    assert reasons == {
        "jazz-esim-cheap": "invalid or negative amount",
        "jazz-tv": "kind tv is not one we sell",
        "ufone-esim-1": "operator ufone is not one of ours",
    }
    assert Plan.objects.count() == 3 and Plan.objects.filter(is_active=True).count() == 3
    assert not AuditEntry.objects.exists()


def test_nothing_to_change_when_the_upstream_sells_what_we_have(provider, plans):
    sync_plan = catalog_sync.preview(provider=provider)
    assert sync_plan.is_empty and not sync_plan.skipped
    assert catalog_sync.apply(provider=provider, actor_label="test") == SyncResult()


def test_apply_creates_inactive_updates_and_deactivates_but_never_deletes(provider, plans):
    changed_upstream(provider)
    result = catalog_sync.apply(
        provider=provider, sync_plan=catalog_sync.preview(provider=provider)
    )
    assert result == SyncResult(created=1, updated=1, deactivated=1)

    new = Plan.objects.get(provider_sku="jazz-esim-day-5gb")
    assert (new.name, new.name_zh, new.kind, new.operator.code) == (
        "Jazz Daily 5 GB",
        "",
        PlanKind.ESIM,
        "jazz",
    )
    assert (new.cost, new.data_mb, new.validity_days, new.period) == (
        Decimal("180.5"),
        5120,
        1,
        Period.DAILY,
    )
    assert not new.is_active and not new.prices.exists()
    changed = Plan.objects.get(pk=plans["changed"].pk)
    assert (changed.cost, changed.validity_days, changed.period) == (
        Decimal("480"),
        30,
        Period.MONTHLY,
    )
    assert (changed.name, changed.name_zh, changed.is_active) == ("Ours", "我们的", True)
    assert changed.prices.get().amount == Decimal("599")
    gone = Plan.objects.get(pk=plans["gone"].pk)
    assert not gone.is_active and Order.objects.filter(plan=gone).count() == 1
    assert Plan.objects.filter(provider_sku__in=["ufone-esim-1", "jazz-tv"]).count() == 0


def test_applying_twice_changes_nothing_the_second_time(provider, plans):
    changed_upstream(provider)
    catalog_sync.apply(provider=provider)
    entries = AuditEntry.objects.count()
    assert catalog_sync.preview(provider=provider).is_empty
    assert catalog_sync.apply(provider=provider) == SyncResult()
    assert AuditEntry.objects.count() == entries


def test_every_change_is_audited_with_before_and_after(provider, plans):
    staff = UserFactory(is_staff=True)
    changed_upstream(provider)
    catalog_sync.apply(provider=provider, actor=staff)

    [updated] = entries_for(plans["changed"])
    assert (updated.action, updated.actor) == ("catalog.plan_updated", staff)
    before, after = updated.before, updated.after
    assert {**before, "cost": Decimal(before["cost"])} == {
        "cost": Decimal("450"),
        "validity_days": 7,
        "period": "weekly",
    }
    assert {**after, "cost": Decimal(after["cost"])} == {
        "cost": Decimal("480"),
        "validity_days": 30,
        "period": "monthly",
    }
    [deactivated] = entries_for(plans["gone"])
    assert deactivated.action == "catalog.plan_deactivated"
    assert (deactivated.before, deactivated.after) == ({"is_active": True}, {"is_active": False})
    [created] = entries_for(Plan.objects.get(provider_sku="jazz-esim-day-5gb"))
    assert created.action == "catalog.plan_created" and created.before == {}
    assert created.after["is_active"] is False and Decimal(created.after["cost"]) == Decimal(
        "180.5"
    )
    assert not entries_for(plans["kept"]).exists()


def test_a_plan_sold_again_is_reactivated_unless_staff_deactivated_it(provider, plans):
    staff_off = PlanFactory(provider=provider, provider_sku="jazz-esim-paused", is_active=False)
    upstream(provider, withdrawn=["jazz-esim-old"])
    catalog_sync.apply(provider=provider, actor_label="test")
    upstream(provider)

    sync_plan = catalog_sync.preview(provider=provider)
    assert [(c.plan.pk, c.fields, c.reactivate) for c in sync_plan.changed] == [
        (plans["gone"].pk, {}, True)
    ]
    assert catalog_sync.apply(provider=provider, sync_plan=sync_plan) == SyncResult(reactivated=1)
    assert Plan.objects.get(pk=plans["gone"].pk).is_active
    assert not Plan.objects.get(pk=staff_off.pk).is_active
    assert entries_for(plans["gone"]).first().action == "catalog.plan_reactivated"


def test_a_period_staff_chose_is_kept_when_the_validity_changes(provider):
    plan = PlanFactory(provider=provider, validity_days=7, period=Period.MONTHLY)
    upstream(provider, catalog=[{"sku": plan.provider_sku, "validity_days": 10}])
    [change] = catalog_sync.preview(provider=provider).changed
    assert change.fields == {"validity_days": (7, 10)}


def test_items_listed_twice_or_changing_kind_are_skipped_and_leave_our_plan(provider, plans):
    upstream(provider, catalog=[{"sku": "jazz-esim-week-10gb", "kind": "recharge", "cost": "1"}])
    items = SandboxAdapter(provider).list_catalog()
    twice = [*items, replace(items[0], cost=Decimal("1")), replace(items[0], cost=Decimal("2"))]
    assert items[0].sku == "jazz-esim-old"
    with mock.patch.object(SandboxAdapter, "list_catalog", return_value=twice):
        sync_plan = catalog_sync.preview(provider=provider)
    reasons = {s.sku: s.reason for s in sync_plan.skipped}
    assert reasons == {
        "jazz-esim-old": "listed more than once",
        "jazz-esim-week-10gb": "kind or operator differs from ours; change the plan by hand",
    }
    assert sync_plan.is_empty


def test_provider_error_is_clear_and_changes_nothing(provider, plans):
    changed_upstream(provider)
    with (
        mock.patch.object(
            SandboxAdapter,
            "list_catalog",
            side_effect=PermanentProviderError("sandbox: 403 denied"),
        ),
        pytest.raises(CatalogSyncError) as error,
    ):
        catalog_sync.apply(provider=provider)
    assert error.value.message == "Could not read the catalog of Sandbox: sandbox: 403 denied"
    assert not AuditEntry.objects.exists()
    assert Plan.objects.filter(is_active=True).count() == 3


def test_an_empty_catalog_deactivates_nothing(provider, plans):
    with (
        mock.patch.object(SandboxAdapter, "list_catalog", return_value=[]),
        pytest.raises(CatalogSyncError, match="empty catalog"),
    ):
        catalog_sync.apply(provider=provider)
    assert Plan.objects.filter(is_active=True).count() == 3


def test_a_stale_preview_is_refused_and_changes_nothing(provider, plans):
    changed_upstream(provider)
    sync_plan = catalog_sync.preview(provider=provider)
    upstream(provider, catalog=[{"sku": "jazz-esim-week-20gb", "cost": "999"}])
    with pytest.raises(StaleSyncPlan, match="changed since the preview"):
        catalog_sync.apply(provider=provider, sync_plan=sync_plan)
    assert not AuditEntry.objects.exists()
    assert Plan.objects.get(pk=plans["changed"].pk).cost == Decimal("450")


def test_an_edit_of_our_plan_after_the_preview_also_makes_it_stale(provider, plans):
    changed_upstream(provider)
    sync_plan = catalog_sync.preview(provider=provider)
    Plan.objects.filter(pk=plans["changed"].pk).update(cost=Decimal("460"))
    with pytest.raises(StaleSyncPlan):
        catalog_sync.apply(provider=provider, sync_plan=sync_plan)


# The management command


def test_command_dry_run_prints_and_changes_nothing(provider, plans, capsys):
    changed_upstream(provider)
    call_command("sync_catalog", "sandbox")
    out = capsys.readouterr().out
    assert "1 new, 1 changed, 1 to deactivate, 3 skipped" in out
    assert "jazz-esim-day-5gb" in out and "PKR 180.50" in out
    assert "cost: 450.00 → 480.00; validity_days: 7 → 30; period: weekly → monthly" in out
    assert "operator ufone is not one of ours" in out
    assert "Dry run: nothing changed" in out
    assert not AuditEntry.objects.exists()
    assert not Plan.objects.filter(provider_sku="jazz-esim-day-5gb").exists()


def test_command_apply_changes_and_audits_as_catalog_sync(provider, plans, capsys):
    changed_upstream(provider)
    call_command("sync_catalog", str(provider.pk), "--apply")
    assert "Applied: 1 created" in capsys.readouterr().out
    assert Plan.objects.filter(provider_sku="jazz-esim-day-5gb", is_active=False).exists()
    assert set(AuditEntry.objects.values_list("actor_label", flat=True)) == {"catalog sync"}


@pytest.mark.parametrize("name", ["Nowhere", "9999"])
def test_command_refuses_an_unknown_provider(provider, name):
    with pytest.raises(CommandError, match="No provider with the name or id"):
        call_command("sync_catalog", name)


def test_command_fails_on_provider_error(provider, plans):
    upstream(provider, catalog_fail="transient")
    with pytest.raises(CommandError, match="Could not read the catalog of Sandbox"):
        call_command("sync_catalog", "Sandbox", "--apply")
    assert not AuditEntry.objects.exists()


# The admin page


def sync_url(provider):
    return reverse("admin:plans_provider_sync_catalog", args=[provider.pk])


def test_admin_preview_then_apply(client, catalog_manager, provider, plans):
    changed_upstream(provider)
    change_page = client.get(reverse("admin:plans_provider_change", args=[provider.pk]))
    assert sync_url(provider) in change_page.content.decode()

    response = client.get(sync_url(provider))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ["jazz-esim-day-5gb", "Jazz Daily 5 GB", "PKR 180.50", "jazz-esim-old"]:
        assert text in body
    assert "Cost: 450.00 → 480.00" in body and "Period: Weekly → Monthly" in body
    assert "operator ufone is not one of ours" in body and "Apply these changes" in body
    assert Plan.objects.count() == 3 and not AuditEntry.objects.exists()

    fingerprint = response.context["sync_plan"].fingerprint
    response = client.post(sync_url(provider), {"fingerprint": fingerprint}, follow=True)
    changelist = reverse("admin:plans_plan_changelist")
    assert response.redirect_chain[-1][0] == f"{changelist}?provider__id__exact={provider.pk}"
    assert response.status_code == 200
    assert "1 created (inactive until priced), 1 updated, 0 reactivated, 1 deactivated" in (
        response.content.decode()
    )
    assert Plan.objects.get(pk=plans["changed"].pk).cost == Decimal("480")
    assert not Plan.objects.get(pk=plans["gone"].pk).is_active
    assert set(AuditEntry.objects.values_list("actor", flat=True)) == {catalog_manager.pk}


def test_admin_action_opens_the_preview(client, catalog_manager, provider):
    response = client.post(
        reverse("admin:plans_provider_changelist"),
        {"action": "sync_catalog", "_selected_action": [provider.pk]},
    )
    assert response.status_code == 302 and response.url == sync_url(provider)


def test_admin_page_says_when_nothing_changes(client, catalog_manager, provider, plans):
    body = client.get(sync_url(provider)).content.decode()
    assert "nothing to change" in body and "Apply these changes" not in body


def test_support_gets_403(client, provider, plans):
    changed_upstream(provider)
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[SUPPORT])
    login_staff(client, user)
    assert client.get(sync_url(provider)).status_code == 403
    fingerprint = catalog_sync.preview(provider=provider).fingerprint
    assert client.post(sync_url(provider), {"fingerprint": fingerprint}).status_code == 403
    assert not AuditEntry.objects.exists()


def test_admin_shows_a_provider_error_and_changes_nothing(client, catalog_manager, provider, plans):
    changed_upstream(provider)
    fingerprint = catalog_sync.preview(provider=provider).fingerprint
    upstream(provider, catalog_fail="permanent")
    message = "Could not read the catalog of Sandbox: sandbox: injected catalog failure"
    response = client.get(sync_url(provider))
    assert response.status_code == 200 and message in response.content.decode()
    assert "Apply these changes" not in response.content.decode()
    response = client.post(sync_url(provider), {"fingerprint": fingerprint})
    assert response.status_code == 200 and message in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_admin_refuses_a_stale_preview(client, catalog_manager, provider, plans):
    changed_upstream(provider)
    fingerprint = client.get(sync_url(provider)).context["sync_plan"].fingerprint
    upstream(provider, withdrawn=["jazz-esim-week-10gb"])
    response = client.post(sync_url(provider), {"fingerprint": fingerprint}, follow=True)
    assert response.redirect_chain == [(sync_url(provider), 302)]
    body = response.content.decode()
    assert "changed since the preview" in body and "jazz-esim-week-10gb" in body
    assert not AuditEntry.objects.exists()
    assert Plan.objects.filter(is_active=True).count() == 3


def test_admin_preview_query_budget(
    client, catalog_manager, provider, django_assert_max_num_queries
):
    for n in range(30):
        PlanFactory(provider=provider, provider_sku=f"jazz-esim-{n:02}")
    upstream(
        provider,
        catalog=[{**NEW_ITEM, "sku": f"jazz-new-{n}"} for n in range(10)]
        + [{"sku": f"jazz-esim-{n:02}", "cost": "1"} for n in range(10)],
        withdrawn=[f"jazz-esim-{n:02}" for n in range(10, 20)],
    )
    client.get(sync_url(provider))  # warm the content type and session caches
    with django_assert_max_num_queries(12):
        response = client.get(sync_url(provider))
    sync_plan = response.context["sync_plan"]
    assert (len(sync_plan.new), len(sync_plan.changed), len(sync_plan.deactivated)) == (10, 10, 10)
