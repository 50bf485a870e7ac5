"""Every order keeps the cost it was placed at; orders older than the snapshot got the plan's."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from orders.models import Order
from orders.services.placing import place_purchase, place_recharge, place_renewal, place_replacement
from plans.models import Plan, PlanKind
from tests.factories import OrderFactory, PlanFactory, SimFactory
from tests.orders.conftest import plan_of

pytestmark = pytest.mark.django_db
migration = importlib.import_module("orders.migrations.0008_order_cost_snapshot")


def test_every_kind_keeps_the_cost_it_was_placed_at(customer, esim_plan, world_partner):
    partner = world_partner
    renewal, recharge = plan_of(PlanKind.RENEWAL), plan_of(PlanKind.RECHARGE)
    replacement = Plan.objects.filter(kind=PlanKind.REPLACEMENT).order_by("-cost").first()
    sim = SimFactory(owner=customer, operator=renewal.operator)
    broken = SimFactory(owner=customer, operator=replacement.operator)
    orders = [
        place_purchase(plan=esim_plan, partner=partner, quantity=3),
        place_renewal(plan=renewal, customer=customer, sim=sim, currency="PKR"),
        place_recharge(plan=recharge, customer=customer, msisdn="0300 1234567", currency="PKR"),
        place_replacement(plan=replacement, customer=customer, sim=broken, currency="PKR"),
    ]
    expected = [
        (esim_plan.cost * 3, esim_plan.cost_currency),
        (renewal.cost, renewal.cost_currency),
        (recharge.cost, recharge.cost_currency),
        (replacement.cost, replacement.cost_currency),
    ]
    assert [(o.cost, o.cost_currency) for o in orders] == expected

    Plan.objects.update(cost=Decimal("1"), cost_currency="CNY")  # e.g. a catalog sync
    stored = Order.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk")
    assert [(o.cost, o.cost_currency) for o in stored] == expected


def test_the_migration_fills_old_orders_from_the_plans_current_cost():
    plan = PlanFactory(cost=Decimal("12.5"), cost_currency="USD")
    old = [OrderFactory(plan=plan, quantity=1), OrderFactory(plan=plan, quantity=2)]
    kept = OrderFactory(plan=plan, cost=Decimal("10"), cost_currency="USD")
    Order.objects.exclude(pk=kept.pk).update(cost=None, cost_currency="")

    migration.fill_cost_from_current_plan_cost(apps, None)

    assert [(o.cost, o.cost_currency) for o in Order.objects.order_by("pk")] == [
        (Decimal("12.5"), "USD"),
        (Decimal("25"), "USD"),
        (Decimal("10"), "USD"),  # a snapshot already taken is left alone
    ]
    assert old and Order.objects.filter(cost__isnull=True).count() == 0
