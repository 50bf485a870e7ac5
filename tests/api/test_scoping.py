"""Two partners: neither ever sees, reads or renews the other's orders and SIMs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, Sim
from orders.services.placing import place_purchase, place_recharge
from orders.services.pricing import partner_price
from plans.models import Plan
from tests.clock import LAST_DAY_LATE_EVENING

pytestmark = pytest.mark.django_db

DAY_AGO = (LAST_DAY_LATE_EVENING - timedelta(days=1)).isoformat()  # the clock tests start at
ORDER_FILTERS = [
    {},
    {"status": "fulfilled"},
    {"status": "paid"},
    {"kind": "purchase"},
    {"kind": "recharge"},
    {"created_after": DAY_AGO},
    {"created_before": DAY_AGO},
    {"customer_reference": "shared-ref"},
    {"kind": "purchase", "status": "fulfilled", "customer_reference": "shared-ref"},
]
SIM_FILTERS = [
    {},
    {"status": "active"},
    {"status": "issued"},
    {"status": "expired"},
    {"operator": "jazz"},
    {"operator": "zong"},
    {"operator": "zong", "status": "expired"},
]
PLAN_FILTERS = [
    {},
    {"operator": "jazz"},
    {"kind": "renewal"},
    {"validity_days_min": 7},
    {"validity_days_max": 7},
    {"data_mb_min": 30000},
]


@pytest.fixture
def world(
    api_partner,
    other_partner,
    api_client,
    other_partner_client,
    plan_by_sku,
    make_sims,
    django_capture_on_commit_callbacks,
):
    """Each partner with a fulfilled purchase, an old recharge and expired Zong SIMs."""
    esim, recharge = plan_by_sku("jazz-esim-week-10gb"), plan_by_sku("jazz-recharge-100")
    sides = {}
    for index, (partner, client) in enumerate(
        [(api_partner, api_client), (other_partner, other_partner_client)]
    ):
        with django_capture_on_commit_callbacks(execute=True):
            place_purchase(
                plan=esim,
                partner=partner,
                quantity=2,
                customer_reference="shared-ref",
            )
        topup = place_recharge(plan=recharge, partner=partner, msisdn="03001234567")
        Order.objects.filter(pk=topup.pk).update(created_at=timezone.now() - timedelta(days=3))
        make_sims(2, partner=partner, operator="zong", start=500 + 10 * index, status="expired")
        sides[partner.slug] = {"partner": partner, "client": client}
    a, b = sides.values()
    a["other"], b["other"] = b, a
    return [a, b]


def listed(client, path, params, key):
    response = client.get(path, {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return {row[key] for row in response.json()["results"]}


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("params", ORDER_FILTERS)
def test_order_lists_hold_only_your_orders(world, side, params):
    me = world[side]
    mine = set(Order.objects.filter(partner=me["partner"]).values_list("number", flat=True))
    theirs = set(
        Order.objects.filter(partner=me["other"]["partner"]).values_list("number", flat=True)
    )
    seen = listed(me["client"], "/api/v1/orders/", params, "number")
    assert seen and seen <= mine
    assert not seen & theirs


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("params", SIM_FILTERS)
def test_sim_lists_hold_only_your_sims(world, side, params):
    me = world[side]
    mine = set(Sim.objects.filter(partner=me["partner"]).values_list("iccid", flat=True))
    theirs = set(Sim.objects.filter(partner=me["other"]["partner"]).values_list("iccid", flat=True))
    seen = listed(me["client"], "/api/v1/sims/", params, "iccid")
    if params.get("status") != "active":
        assert seen
    assert seen <= mine
    assert not seen & theirs


@pytest.mark.parametrize("side", [0, 1])
@pytest.mark.parametrize("params", PLAN_FILTERS)
def test_the_catalog_shows_your_own_prices(world, side, params):
    me = world[side]
    response = me["client"].get("/api/v1/plans/", {"page_size": 200, **params})
    rows = response.json()["results"]
    assert rows
    for row in rows:
        price = partner_price(Plan.objects.get(pk=row["id"]), me["partner"])
        assert row["price"]["amount"] == f"{price:.2f}"


@pytest.mark.parametrize("side", [0, 1])
def test_renewal_plans_only_for_your_sims(world, side):
    me = world[side]
    own = Sim.objects.filter(partner=me["partner"], operator__code="jazz").first()
    other = Sim.objects.filter(partner=me["other"]["partner"], operator__code="jazz").first()
    url = "/api/v1/sims/{}/renewal-plans/"
    assert listed(me["client"], url.format(own.iccid), {}, "id")
    response = me["client"].get(url.format(other.iccid))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("side", [0, 1])
def test_another_partners_objects_are_404(world, side):
    me, other = world[side], world[side]["other"]
    client = me["client"]
    for order in Order.objects.filter(partner=other["partner"]):
        assert client.get(f"/api/v1/orders/{order.number}/").status_code == 404
    for sim in Sim.objects.filter(partner=other["partner"]):
        assert client.get(f"/api/v1/sims/{sim.iccid}/").status_code == 404
    own_order = Order.objects.filter(partner=me["partner"]).first()
    assert client.get(f"/api/v1/orders/{own_order.number}/").status_code == 200


@pytest.mark.parametrize("side", [0, 1])
def test_another_partners_sim_cannot_be_renewed(world, side, plan_by_sku):
    me, other = world[side], world[side]["other"]
    sim = Sim.objects.filter(partner=other["partner"], operator__code="jazz").first()
    orders_before = Order.objects.count()
    response = me["client"].post(
        f"/api/v1/sims/{sim.iccid}/renewals/",
        {"plan": plan_by_sku("jazz-renewal-week-10gb").pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"scoping-{side}",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Order.objects.count() == orders_before
