"""The order and SIM lists: each row is the detail answer of the same object, and a page is read
through the partner's index in the cursor's order."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.api.serializers import OrderSerializer
from orders.models import Order, Sim
from tests.factories import make_iccid

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
SIMS = "/api/v1/sims/"


def pages(client, url):
    """Every row of a cursor-paginated list, following ``next`` with small pages."""
    rows, response = [], client.get(url, {"page_size": 2})
    while True:
        assert response.status_code == 200
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


@pytest.fixture
def varied_orders(api_partner, other_partner, plan_by_sku, make_sims):
    """A fulfilled purchase with two eSIMs, an unpaid one, a renewal and a recharge, and another
    partner's order."""
    now = timezone.now()
    esim, renewal = plan_by_sku("jazz-esim-week-10gb"), plan_by_sku("jazz-renewal-week-10gb")
    recharge = plan_by_sku("jazz-recharge-100")
    common = {"partner": api_partner, "currency": "PKR"}
    purchase = Order.objects.create(
        **common,
        kind=Order.Kind.PURCHASE,
        plan=esim,
        quantity=2,
        subtotal=Decimal("1035.92"),
        total=Decimal("1035.92"),
        status=Order.Status.FULFILLED,
        customer_reference="trip-42",
        webhook_url="https://partner.example/hooks",
        paid_at=now,
        fulfilled_at=now + timedelta(seconds=3),
    )
    make_sims(2, start=500, issued_by_order=purchase)
    Order.objects.create(
        **common, kind=Order.Kind.PURCHASE, plan=esim, subtotal=Decimal("5"), total=Decimal("5")
    )
    Order.objects.create(
        **common,
        kind=Order.Kind.RENEWAL,
        plan=renewal,
        sim=make_sims(1, start=600)[0],
        subtotal=Decimal("300"),
        total=Decimal("300"),
        status=Order.Status.PAID,
        paid_at=now,
    )
    Order.objects.create(
        **common,
        kind=Order.Kind.RECHARGE,
        plan=recharge,
        recharge_msisdn="+923001234567",
        subtotal=Decimal("100.5"),
        total=Decimal("100.5"),
        status=Order.Status.NEEDS_ATTENTION,
    )
    Order.objects.create(
        partner=other_partner,
        currency="PKR",
        kind=Order.Kind.PURCHASE,
        plan=esim,
        subtotal=Decimal("9"),
        total=Decimal("9"),
    )


def test_every_order_row_is_its_detail_answer(api_client, api_partner, varied_orders):
    rows = pages(api_client, ORDERS)
    assert [row["number"] for row in rows] == list(
        Order.objects.filter(partner=api_partner).values_list("number", flat=True)
    )
    for row in rows:
        detail = api_client.get(f"{ORDERS}{row['number']}/")
        assert json.dumps(row) == json.dumps(detail.json())
        declared = OrderSerializer(Order.objects.get(number=row["number"])).data
        assert json.dumps(row) == json.dumps(declared)  # as the schema's serializer says
    assert {row["kind"] for row in rows} == {"purchase", "renewal", "recharge"}
    assert sorted(len(row["sims"]) for row in rows) == [0, 0, 0, 2]


def test_every_sim_row_is_its_detail_answer(api_client, make_sims, other_partner, plan_by_sku):
    plain, synced, replaced, odd = make_sims(4, start=700)
    Sim.objects.filter(pk=synced.pk).update(
        msisdn="+923001234567",
        confirmation_code="1234",
        current_plan=plan_by_sku("jazz-esim-week-10gb"),
        usage_synced_at=timezone.now() - timedelta(hours=1),
    )
    Sim.objects.filter(pk=replaced.pk).update(status=Sim.Status.REPLACED, replaced_by=plain)
    Sim.objects.filter(pk=odd.pk).update(
        activation_code="", expires_at=None, data_total_mb=None, data_remaining_mb=None
    )
    make_sims(1, start=800, partner=other_partner, operator="zong")
    rows = pages(api_client, SIMS)
    assert [row["iccid"] for row in rows] == [make_iccid(n) for n in (703, 702, 701, 700)]
    for row in rows:
        detail = api_client.get(f"{SIMS}{row['iccid']}/")
        assert json.dumps(row) == json.dumps(detail.json())


def fill(model, caller, other, count: int, plan) -> None:
    """``count`` rows of ``model``, every fiftieth the caller's and the rest another partner's,
    two a minute over the last days."""
    rows = []
    for n in range(count):
        partner = caller if n % 50 == 0 else other
        if model is Order:
            rows.append(Order(partner=partner, kind="purchase", plan=plan, subtotal=1, total=1))
        else:
            rows.append(Sim(partner=partner, operator=plan.operator, iccid=make_iccid(n)))
    model.objects.bulk_create(rows, batch_size=2000)
    table = model._meta.db_table
    with connection.cursor() as cursor:  # pairs share a time: the id breaks the tie
        cursor.execute(f"UPDATE {table} SET created_at = now() - (id / 2) * interval '1 minute'")
        cursor.execute(f"ANALYZE {table}")


def nodes(plan: dict):
    """The plan's steps that read the page's rows (not a subquery per row, such as the order's
    issued SIMs, sorted by id)."""
    yield plan
    for child in plan.get("Plans", []):
        if child.get("Parent Relationship") != "SubPlan":
            yield from nodes(child)


def assert_index_scan_without_sort(sql: str, table: str, index: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]
    steps = list(nodes(plan))
    assert any(step.get("Index Name") == index for step in steps), json.dumps(plan, indent=1)
    assert not any("Sort" in step["Node Type"] for step in steps), json.dumps(plan, indent=1)
    scans = [step for step in steps if step.get("Relation Name") == table]
    assert all(step["Node Type"] != "Seq Scan" for step in scans), json.dumps(plan, indent=1)


@pytest.mark.services
@pytest.mark.parametrize(
    ("model", "url", "index"),
    [(Order, ORDERS, "order_partner_created_idx"), (Sim, SIMS, "sim_partner_created_idx")],
)
def test_a_page_is_an_index_scan_in_the_cursors_order(
    api_client, api_partner, other_partner, plan_by_sku, model, url, index
):
    """With 240 rows of the caller among 12,000 (one partner among many: reading the newest
    rows of every partner until 21 are the caller's costs the planner more than 21 rows of its
    index), the first page and a later cursor page walk the partner's index in the cursor's
    order: no sort (the id breaks ties in the index), no sequential scan of the table."""
    fill(model, api_partner, other_partner, 12_000, plan_by_sku("jazz-esim-week-10gb"))
    api_client.get(url)  # the API key is cached from now on
    with CaptureQueriesContext(connection) as first:
        response = api_client.get(url, {"page_size": 20})
    with CaptureQueriesContext(connection) as later:
        assert api_client.get(response.json()["next"]).status_code == 200
    for captured in (first, later):
        page_sql = captured.captured_queries[0]["sql"]
        assert "ORDER BY" in page_sql
        assert_index_scan_without_sort(page_sql, model._meta.db_table, index)
