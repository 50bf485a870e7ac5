"""Catalog writes through plans.services: sync, import and prices called directly, and a guard
that keeps the admin, the commands and the import from writing catalog rows themselves."""

import ast
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import PriceTier
from accounts.roles import CATALOG_MANAGERS, sync_staff_roles
from core.audit import entries_for
from plans.models import PartnerPriceRule, Plan, PlanPrice, Promotion
from plans.services import catalog_import, catalog_sync, prices
from plans.services.catalog_sync import SyncResult
from tests.factories import (
    OperatorFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
    UserFactory,
)
from tests.staff import login_staff

PLANS_DIR = Path(settings.BASE_DIR) / "plans"


# Catalog sync


@pytest.mark.django_db
def test_sync_apply_creates_changes_and_deactivates_with_audit(staff_member):
    OperatorFactory(code="jazz")
    provider = ProviderFactory()
    changed = PlanFactory(provider=provider, provider_sku="week", validity_days=7)
    gone = PlanFactory(provider=provider, provider_sku="old")
    provider.settings = {
        "catalog": [
            {
                "sku": "day",
                "name": "Jazz Daily",
                "kind": "esim",
                "operator_code": "jazz",
                "cost": "180.50",
                "cost_currency": "PKR",
                "validity_days": 1,
                "data_mb": 5120,
            },
            {"sku": "week", "cost": "480"},
        ],
        "catalog_withdrawn": ["old"],
    }
    provider.save()

    sync_plan = catalog_sync.preview(provider=provider)
    result = catalog_sync.apply(provider=provider, actor=staff_member, sync_plan=sync_plan)

    assert result == SyncResult(created=1, updated=1, deactivated=1)
    new = Plan.objects.get(provider=provider, provider_sku="day")
    assert not new.is_active and not new.prices.exists()
    changed.refresh_from_db()
    gone.refresh_from_db()
    assert changed.cost == Decimal("480") and not gone.is_active
    assert entries_for(new).get().action == catalog_sync.CREATED
    assert entries_for(gone).get().actor == staff_member


# Catalog import


@pytest.mark.django_db
def test_import_apply_adds_a_plan_with_prices_and_audit(staff_member):
    plan = PlanFactory.build(operator=OperatorFactory(), provider=ProviderFactory())

    catalog_import.save_imported_plan(
        plan=plan,
        is_create=True,
        prices={"PKR": Decimal("500.00")},
        before={},
        user=staff_member,
        file_name="plans.csv",
    )

    assert PlanPrice.objects.get(plan=plan).amount == Decimal("500.00")
    entry = entries_for(plan).get()
    assert entry.action == "catalog_import.plan_added" and entry.actor == staff_member
    assert entry.after["price_pkr"] == "500" and entry.note == "import: plans.csv"


@pytest.mark.django_db
def test_import_apply_changes_only_what_differs(staff_member):
    plan = PlanFactory(name="Old name")
    PlanPriceFactory(plan=plan, currency="PKR", amount=Decimal("500.00"))
    plan = Plan.objects.get(pk=plan.pk)
    before = catalog_import.audit_state(plan)
    plan.name = "New name"

    catalog_import.save_imported_plan(
        plan=plan,
        is_create=False,
        prices={"PKR": Decimal("550.00")},
        before=before,
        user=staff_member,
        file_name="plans.csv",
    )

    assert Plan.objects.get(pk=plan.pk).name == "New name"
    assert PlanPrice.objects.get(plan=plan).amount == Decimal("550.00")
    entry = entries_for(plan).get()
    assert entry.action == "catalog_import.plan_changed"
    assert entry.before == {"name": "Old name", "price_pkr": "500"}
    assert entry.after == {"name": "New name", "price_pkr": "550"}


@pytest.mark.django_db
def test_import_preview_writes_no_audit_entry(staff_member):
    plan = PlanFactory.build(operator=OperatorFactory(), provider=ProviderFactory())
    catalog_import.save_imported_plan(
        plan=plan, is_create=True, prices={}, before={}, audit_entry=False
    )
    assert not entries_for(plan).exists()


# Prices, price rules, promotions


@pytest.mark.django_db
def test_price_rule_save_adds_then_changes_only_the_changed_fields(staff_member):
    rule = PartnerPriceRule(tier=PriceTier.GOLD, discount_percent=Decimal("5"))
    prices.save_price_rule(
        rule=rule, actor=staff_member, changed_fields=["tier", "discount_percent"]
    )
    added = entries_for(rule).get()
    assert added.action == "admin.partnerpricerule.added" and added.after["tier"] == "gold"

    stale = PartnerPriceRule.objects.get(pk=rule.pk)
    PartnerPriceRule.objects.filter(pk=rule.pk).update(tier=PriceTier.SILVER)
    stale.discount_percent = Decimal("7.5")
    prices.save_price_rule(
        rule=stale,
        actor=staff_member,
        changed_fields=["discount_percent"],
        before={"discount_percent": "5"},
    )

    rule.refresh_from_db()
    assert rule.discount_percent == Decimal("7.5")
    assert rule.tier == PriceTier.SILVER  # the stale copy's other fields are not written back
    changed = entries_for(rule).get(action="admin.partnerpricerule.changed")
    assert changed.before == {"discount_percent": "5"}
    assert changed.after == {"discount_percent": "7.5"} and changed.actor == staff_member


@pytest.mark.django_db
def test_plan_price_and_promotion_deletes_record_what_they_were(staff_member):
    price = PlanPriceFactory(amount=Decimal("500.00"))
    promotion = Promotion.objects.create(
        code="EID10", percent_off=Decimal("10"), starts_at=timezone.now()
    )
    prices.delete_plan_prices(prices=[price], actor=staff_member)
    prices.delete_promotions(
        promotions=Promotion.objects.filter(pk=promotion.pk), actor=staff_member
    )
    assert not PlanPrice.objects.exists() and not Promotion.objects.exists()
    assert entries_for(promotion).get().before["code"] == "EID10"


def test_the_rule_admin_saves_through_the_service(client, db):
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[CATALOG_MANAGERS])
    login_staff(client, user)
    with mock.patch.object(prices, "save_price_rule", wraps=prices.save_price_rule) as service:
        response = client.post(
            reverse("admin:plans_partnerpricerule_add"),
            {"tier": PriceTier.GOLD, "discount_percent": "5"},
        )
    assert response.status_code == 302
    assert service.call_args.kwargs["actor"] == user
    assert PartnerPriceRule.objects.get().discount_percent == Decimal("5")


# Guard: the admin, the commands and the import widgets never write catalog rows themselves

WRITE_METHODS = {"save", "delete", "bulk_create", "bulk_update"}
MANAGER_WRITES = {"create", "update", "get_or_create", "update_or_create"}


def direct_writes(source: str) -> list[str]:
    """The calls in ``source`` that write rows: ``x.save()`` (but ``formset.save(commit=False)``),
    ``x.delete()``, ``bulk_create``/``bulk_update``, and ``Model.objects[...].create/update``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, ast.unparse(node.func.value)
        builds_only = any(
            k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in node.keywords
        )
        if (name in WRITE_METHODS and not builds_only) or (
            name in MANAGER_WRITES and "objects" in receiver
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def guarded_files() -> list[Path]:
    return sorted(
        [
            *(PLANS_DIR / "admin").glob("*.py"),
            *(PLANS_DIR / "importing").glob("*.py"),
            *(PLANS_DIR / "management" / "commands").glob("*.py"),
        ]
    )


def test_the_guard_finds_direct_writes():
    source = (
        "plan.save(update_fields=['name'])\nPlanPrice.objects.create(plan=plan)\n"
        "Plan.objects.filter(pk=1).update(is_active=False)\nrule.delete()\n"
        "PlanPrice.objects.bulk_create(rows)\nformset.save(commit=False)\n"
    )
    assert len(direct_writes(source)) == 5


def test_admin_commands_and_import_call_services_for_every_catalog_write():
    files = guarded_files()
    assert PLANS_DIR / "admin" / "catalog.py" in files and len(files) > 5
    writes = {
        str(path.relative_to(PLANS_DIR.parent)): found
        for path in files
        if (found := direct_writes(path.read_text()))
    }
    assert writes == {}, "write through plans/services/ instead"
