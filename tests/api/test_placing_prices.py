"""Partner orders are priced from the process's memo of the catalog version
(``plans.services.catalog_memo``): read once, yet any change to what is sold shows on the very
next order, and a change whose new version never reached the cache within the memo's age."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.models import PartnerPriceRule, PlanPrice
from plans.services import catalog_memo
from plans.services.prices import save_plan_price, save_price_rule

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
SKU = "jazz-esim-week-10gb"


@pytest.fixture
def order(api_client, plan_by_sku):
    """``order()``: one purchase of the week plan through the API; its JSON answer."""
    plan = plan_by_sku(SKU)
    numbers = iter(range(1000))

    def place():
        key = f"memo-{next(numbers)}"
        body = {"plan": plan.pk, "customer_reference": key}
        return api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    return place


def pkr_price(plan) -> PlanPrice:
    return plan.prices.get(currency="PKR")


def silver_rule() -> PartnerPriceRule:
    return PartnerPriceRule.objects.get(tier="silver", plan=None, operator=None)


def test_the_plan_and_its_prices_are_read_once_per_catalog_version(order):
    first = order().json()
    with CaptureQueriesContext(connection) as queries:
        second = order()
    assert second.status_code == 201 and second.json()["total"] == first["total"]
    read = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in read if "plans_" in sql], read


def test_a_new_retail_price_prices_the_next_order(order, plan_by_sku, staff_member):
    assert Decimal(order().json()["total"]) == Decimal("517.96")  # 563 less silver's 8 %
    price = pkr_price(plan_by_sku(SKU))
    price.amount = Decimal("1500.00")
    save_plan_price(price=price, actor=staff_member, changed_fields=["amount"])
    assert Decimal(order().json()["total"]) == Decimal("1380.00")  # 1500 less silver's 8 %


def test_a_new_price_rule_prices_the_next_order(order, staff_member):
    order()
    rule = silver_rule()
    rule.discount_percent = Decimal("20")
    save_price_rule(rule=rule, actor=staff_member, changed_fields=["discount_percent"])
    assert Decimal(order().json()["total"]) == Decimal("450.40")


def test_a_withdrawn_plan_is_refused_on_the_next_order(order, plan_by_sku):
    assert order().status_code == 201
    plan = plan_by_sku(SKU)
    plan.is_active = False
    plan.save()  # as the admin's plan form does
    refused = order()
    assert refused.status_code == 400 and list(refused.json()["error"]["details"]) == ["plan"]


def test_a_change_the_cache_never_heard_of_shows_within_the_memos_age(
    order, plan_by_sku, monkeypatch
):
    order()
    PlanPrice.objects.filter(pk=pkr_price(plan_by_sku(SKU)).pk).update(amount=Decimal("2000"))
    assert Decimal(order().json()["total"]) == Decimal("517.96")  # the version did not change
    later = catalog_memo.time.monotonic() + catalog_memo.MAX_AGE_SECONDS + 1
    monkeypatch.setattr(catalog_memo.time, "monotonic", lambda: later)
    assert Decimal(order().json()["total"]) == Decimal("1840.00")


def test_without_a_catalog_version_nothing_is_kept():
    reads = []
    for _ in range(2):
        catalog_memo.remembered(None, "row", lambda: reads.append(1))
    catalog_memo.remembered("v1", "row", lambda: reads.append(1))
    catalog_memo.remembered("v1", "row", lambda: reads.append(1))
    catalog_memo.remembered("v2", "row", lambda: reads.append(1))
    assert len(reads) == 4


def test_a_full_memo_starts_over(monkeypatch):
    monkeypatch.setattr(catalog_memo, "MAX_ENTRIES", 3)
    for key in "abc":
        catalog_memo.keep("v1", key, key.upper())
    assert catalog_memo.recalled("v1", "c") == "C"
    catalog_memo.keep("v1", "d", "D")
    assert [catalog_memo.recalled("v1", key) for key in "abcd"] == [None, None, None, "D"]
    assert catalog_memo.recalled("v2", "d") is None and catalog_memo.recalled(None, "d") is None
