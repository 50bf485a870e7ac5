"""Price rules, promotions and plans in the admin: filters, columns, constraint errors, budgets."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PriceTier
from orders.models import Order
from plans.models import PartnerPriceRule, Promotion
from tests.factories import (
    OperatorFactory,
    OrderFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
)

PROMOTIONS = reverse("admin:plans_promotion_changelist")
RULES = reverse("admin:plans_partnerpricerule_changelist")
PLANS = reverse("admin:plans_plan_changelist")


def promotion(code, *, starts=-1, ends=None, **fields):
    """A 10% promotion starting ``starts`` days from now and ending ``ends`` days from now."""
    now = timezone.now()
    return Promotion.objects.create(
        code=code,
        percent_off=Decimal("10"),
        starts_at=now + timedelta(days=starts),
        ends_at=None if ends is None else now + timedelta(days=ends),
        **fields,
    )


def listed(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response, {str(obj) for obj in response.context["cl"].result_list}


def test_running_filter(client, catalog_manager):
    promotion("OPEN")
    promotion("WINDOW", ends=1)
    promotion("LATER", starts=1)
    promotion("OVER", starts=-3, ends=-1)
    promotion("OFF", is_active=False)
    used_up = promotion("USEDUP", max_redemptions=1)
    OrderFactory(promotion=used_up, status=Order.Status.FULFILLED)
    one_left = promotion("ONELEFT", max_redemptions=2)
    OrderFactory(promotion=one_left, status=Order.Status.PAID)
    OrderFactory(promotion=one_left, status=Order.Status.CANCELLED)

    _, running = listed(client, PROMOTIONS, running="yes")
    _, not_running = listed(client, PROMOTIONS, running="no")
    _, everything = listed(client, PROMOTIONS)

    assert running == {"OPEN", "WINDOW", "ONELEFT"}
    assert not_running == {"LATER", "OVER", "OFF", "USEDUP"}
    assert running | not_running == everything


def test_promotion_columns_show_discount_redemptions_and_running(client, catalog_manager):
    limited = promotion("LIMITED", max_redemptions=5)
    OrderFactory(promotion=limited, status=Order.Status.FULFILLED)
    OrderFactory(promotion=limited, status=Order.Status.PAYMENT_FAILED)
    Promotion.objects.create(
        code="RS200",
        amount_off=Decimal("200"),
        amount_currency="PKR",
        starts_at=timezone.now() - timedelta(days=1),
    )

    response, _ = listed(client, PROMOTIONS)
    body = response.content.decode()

    assert "1 / 5" in body and "10%" in body and "PKR 200.00" in body
    assert 'alt="True"' in body


def test_statuses_that_do_not_use_up_a_promotion_are_order_statuses():
    """Plans names them as strings (orders sits above it); each must be a real Order.Status."""
    assert Promotion.UNCOUNTED_ORDER_STATUSES
    assert set(Promotion.UNCOUNTED_ORDER_STATUSES) <= set(Order.Status.values)


def post_promotion(client, **values):
    data = {
        "code": "SPRING",
        "description": "",
        "percent_off": "10",
        "amount_off": "",
        "amount_currency": "",
        "starts_at_0": "2026-03-10",
        "starts_at_1": "00:00:00",
        "ends_at_0": "2026-03-20",
        "ends_at_1": "00:00:00",
        "max_redemptions": "",
        "is_active": "on",
    }
    return client.post(reverse("admin:plans_promotion_add"), data | values)


def form_errors(response):
    assert response.status_code == 200, "expected the form again, with errors"
    return response.context["adminform"].form.errors


def test_promotion_ending_before_it_starts_is_a_form_error(client, catalog_manager):
    response = post_promotion(client, ends_at_0="2026-03-01")

    assert form_errors(response) == {"ends_at": ["The end must be after the start."]}
    assert not Promotion.objects.exists()


def test_promotion_with_two_kinds_of_discount_is_a_form_error(client, catalog_manager):
    response = post_promotion(client, amount_off="100", amount_currency="PKR")

    assert form_errors(response) == {
        "percent_off": [
            "Give either a percentage off, or an amount off with its currency, not both."
        ]
    }


def test_valid_promotion_is_saved(client, catalog_manager):
    assert post_promotion(client).status_code == 302
    assert Promotion.objects.get().code == "SPRING"


def post_rule(client, **values):
    data = {"tier": PriceTier.GOLD, "operator": "", "plan": "", "discount_percent": "10"}
    return client.post(reverse("admin:plans_partnerpricerule_add"), data | values)


def test_rule_for_operator_and_plan_is_a_form_error(client, catalog_manager):
    plan = PlanFactory()

    response = post_rule(client, operator=plan.operator_id, plan=plan.pk)

    assert form_errors(response) == {
        "plan": ["A rule applies to one operator or to one plan, not both: clear one of them."]
    }
    assert not PartnerPriceRule.objects.exists()


@pytest.mark.parametrize(
    ("scope", "field", "message"),
    [
        ("tier", "tier", "This tier already has a rule for all plans."),
        ("operator", "operator", "This tier already has a rule for this operator."),
        ("plan", "plan", "This tier already has a rule for this plan."),
    ],
)
def test_second_rule_for_the_same_scope_is_a_form_error(
    client, catalog_manager, scope, field, message
):
    plan = PlanFactory()
    values = {"operator": plan.operator if scope == "operator" else None}
    values["plan"] = plan if scope == "plan" else None
    PartnerPriceRule.objects.create(tier=PriceTier.GOLD, discount_percent=5, **values)

    response = post_rule(client, **{k: v.pk for k, v in values.items() if v})

    assert form_errors(response) == {field: [message]}
    assert PartnerPriceRule.objects.count() == 1


def test_rule_operator_filter_includes_rules_for_its_plans(client, catalog_manager):
    jazz = OperatorFactory(code="jazz", name="Jazz")
    zong = OperatorFactory(code="zong", name="Zong")
    zong_plan = PlanFactory(operator=zong, name="Zong Monthly")
    PartnerPriceRule.objects.create(tier=PriceTier.GOLD, discount_percent=5)
    PartnerPriceRule.objects.create(tier=PriceTier.GOLD, operator=jazz, discount_percent=7)
    PartnerPriceRule.objects.create(tier=PriceTier.SILVER, plan=zong_plan, discount_percent=9)

    _, for_zong = listed(client, RULES, for_operator=zong.pk)
    _, gold = listed(client, RULES, tier=PriceTier.GOLD)
    response, _ = listed(client, RULES, for_operator="not-a-number")

    assert for_zong == {"Silver · Zong Monthly: 9.00%"}
    assert len(gold) == 2
    body = response.content.decode()
    assert "operator: Jazz" in body and "plan: Zong Monthly" in body and "all plans" in body


def test_unlimited_plan_with_a_cap_is_a_form_error(client, catalog_manager):
    plan = PlanFactory(provider=ProviderFactory())
    data = {
        "operator": plan.operator_id,
        "provider": plan.provider_id,
        "provider_sku": plan.provider_sku,
        "kind": plan.kind,
        "name": plan.name,
        "name_zh": "",
        "data_mb": "2048",
        "data_unlimited": "on",
        "validity_days": "7",
        "period": plan.period,
        "cost": "450",
        "cost_currency": "PKR",
        "is_active": "on",
        "ordering": "0",
        "prices-TOTAL_FORMS": "0",
        "prices-INITIAL_FORMS": "0",
    }

    response = client.post(reverse("admin:plans_plan_change", args=[plan.pk]), data)

    assert form_errors(response) == {
        "data_mb": ["An unlimited plan has no data cap: leave the data (MB) empty."]
    }
    plan.refresh_from_db()
    assert plan.data_unlimited is False


def make_rows(numbers):
    """One of each per number: plan with a price, price rules, promotion with an order."""
    for n in numbers:
        operator = OperatorFactory(code=f"op{n}", name=f"Operator {n}")
        plan = PlanFactory(operator=operator)
        PlanPriceFactory(plan=plan)
        PartnerPriceRule.objects.create(tier=PriceTier.GOLD, operator=operator, discount_percent=n)
        PartnerPriceRule.objects.create(tier=PriceTier.SILVER, plan=plan, discount_percent=n)
        OrderFactory(promotion=promotion(f"CODE{n}", max_redemptions=3), plan=plan)


@pytest.mark.parametrize(("url", "budget"), [(PLANS, 12), (RULES, 11), (PROMOTIONS, 10)])
def test_changelist_query_budget_does_not_grow_with_rows(
    client, catalog_manager, django_assert_max_num_queries, url, budget
):
    make_rows(range(2))
    with django_assert_max_num_queries(budget) as few:
        client.get(url)
    make_rows(range(2, 12))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["cl"].result_list) >= 12
