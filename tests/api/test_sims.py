"""SIMs through the API: activation details, usage, filters, renewal plans and renewals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.money import Currency
from orders.models import Order, Sim, WalletEntry
from orders.services.pricing import partner_price
from plans.models import Period, Plan, PlanKind, PlanPrice

pytestmark = pytest.mark.django_db

SIMS = "/api/v1/sims/"
LIST_BUDGET = 3  # key lookup, last-used stamp, the page (operator and successor joined)
CACHED_KEY_LIST_BUDGET = 1  # the page
RENEWAL_PLANS_BUDGET = 4  # key lookup, last-used stamp, the SIM, the page


def test_sim_shape(api_client, partner_sim, make_sims, plan_by_sku):
    plan = plan_by_sku("jazz-esim-week-10gb")
    synced = timezone.now() - timedelta(hours=1)
    successor = make_sims(1, start=1)[0]
    Sim.objects.filter(pk=partner_sim.pk).update(
        msisdn="+923001234567",
        confirmation_code="1234",
        current_plan=plan,
        usage_synced_at=synced,
        status=Sim.Status.REPLACED,
        replaced_by=successor,
    )
    partner_sim.refresh_from_db()
    response = api_client.get(f"{SIMS}{partner_sim.iccid}/")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "iccid": partner_sim.iccid,
        "msisdn": "+923001234567",
        "operator": {"code": "jazz", "name": "Jazz"},
        "status": "replaced",
        "activation_code": partner_sim.activation_code,
        "smdp_address": "smdp.sandbox.example",
        "matching_id": partner_sim.matching_id,
        "confirmation_code": "1234",
        "plan": plan.pk,
        "expires_at": body["expires_at"],
        "usage": {
            "data_total_mb": 10240,
            "data_remaining_mb": 4096,
            "as_of": body["usage"]["as_of"],
        },
        "replaced_by": successor.iccid,
    }
    assert parse_datetime(body["usage"]["as_of"]) == synced
    assert api_client.get(f"{SIMS}{successor.iccid}/").json()["replaced_by"] is None


def test_unknown_or_malformed_iccid_is_404(api_client):
    assert api_client.get(f"{SIMS}8992000000000000000/").status_code == 404
    response = api_client.get(f"{SIMS}not-an-iccid/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_filters(api_client, make_sims):
    jazz = make_sims(2)
    zong = make_sims(1, operator="zong", start=10, status=Sim.Status.EXPIRED)

    def iccids(**params):
        response = api_client.get(SIMS, params)
        assert response.status_code == 200
        return {row["iccid"] for row in response.json()["results"]}

    assert iccids() == {sim.iccid for sim in jazz + zong}
    assert iccids(operator="zong") == {zong[0].iccid}
    assert iccids(status="active") == {sim.iccid for sim in jazz}
    assert iccids(status="expired", operator="jazz") == set()
    assert api_client.get(SIMS, {"status": "lost"}).status_code == 400


def test_renewal_plans_of_the_sim_operator(api_client, api_partner, partner_sim):
    response = api_client.get(f"{SIMS}{partner_sim.iccid}/renewal-plans/")
    assert response.status_code == 200
    results = response.json()["results"]
    expected = Plan.objects.filter(kind=PlanKind.RENEWAL, operator__code="jazz", is_active=True)
    assert [row["id"] for row in results] == list(
        expected.order_by("ordering", "id").values_list("id", flat=True)
    )
    for row in results:
        price = partner_price(Plan.objects.get(pk=row["id"]), api_partner)
        assert row["price"] == {"amount": f"{price:.2f}", "currency": "PKR"}


def test_renewal_is_paid_and_applied(
    api_client, api_partner, plan_by_sku, django_capture_on_commit_callbacks
):
    esim = plan_by_sku("jazz-esim-week-10gb")
    with django_capture_on_commit_callbacks(execute=True):
        bought = api_client.post("/api/v1/orders/", {"plan": esim.pk}, format="json").json()
    sim = Sim.objects.get(
        iccid__in=api_client.get(f"/api/v1/orders/{bought['number']}/").json()["sims"]
    )
    before, left = sim.expires_at, sim.data_remaining_mb
    plan = plan_by_sku("jazz-renewal-month-30gb")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"{SIMS}{sim.iccid}/renewals/",
            {"plan": plan.pk, "customer_reference": "renew-1", "max_price": "1495.00"},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["sim"], body["total"]) == ("renewal", sim.iccid, "1495.00")
    debit = WalletEntry.objects.get(order__number=body["number"])
    assert debit.amount == Decimal("-1495.00")
    assert (debit.order.cost, debit.order.cost_currency) == (plan.cost, plan.cost_currency)
    sim.refresh_from_db()
    assert sim.expires_at >= before + timedelta(days=30)
    assert sim.data_remaining_mb == left + 30720
    order = api_client.get(f"/api/v1/orders/{body['number']}/").json()
    assert order["status"] == "fulfilled"
    assert api_client.get(f"{SIMS}{sim.iccid}/").json()["plan"] == plan.pk


def test_renewal_max_price_guard(api_client, api_partner, partner_sim, plan_by_sku):
    plan = plan_by_sku("jazz-renewal-month-30gb")
    response = api_client.post(
        f"{SIMS}{partner_sim.iccid}/renewals/",
        {"plan": plan.pk, "max_price": "1494.99"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "price_changed"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("sku", "status", "code"),
    [
        ("jazz-esim-week-10gb", 400, "validation_error"),
        ("zong-renewal-week-10gb", 400, "plan_does_not_fit"),
    ],
)
def test_renewal_with_a_wrong_plan(api_client, partner_sim, plan_by_sku, sku, status, code):
    response = api_client.post(
        f"{SIMS}{partner_sim.iccid}/renewals/", {"plan": plan_by_sku(sku).pk}, format="json"
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not Order.objects.exists()


def test_a_cancelled_sim_cannot_be_renewed(api_client, partner_sim, plan_by_sku):
    Sim.objects.filter(pk=partner_sim.pk).update(status=Sim.Status.CANCELLED)
    response = api_client.post(
        f"{SIMS}{partner_sim.iccid}/renewals/",
        {"plan": plan_by_sku("jazz-renewal-week-10gb").pk},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "sim_not_renewable"
    assert not Order.objects.exists()


@pytest.mark.parametrize("count", [10, 1000])
def test_sims_query_budget(api_client, make_sims, django_assert_num_queries, count):
    sims = make_sims(count, start=10_000)
    successors = make_sims(min(count, 50), start=20_000)
    for old, new in zip(sims, successors, strict=False):
        old.replaced_by = new
    Sim.objects.bulk_update(sims, ["replaced_by"])
    with django_assert_num_queries(LIST_BUDGET):
        response = api_client.get(SIMS, {"page_size": 200})
    assert len(response.json()["results"]) == min(200, count + len(successors))
    with django_assert_num_queries(CACHED_KEY_LIST_BUDGET):
        assert api_client.get(response.json()["next"] or SIMS).status_code == 200


@pytest.mark.parametrize("count", [10, 1000])
def test_renewal_plans_query_budget(
    api_client, partner_sim, plan_by_sku, django_assert_max_num_queries, count
):
    template = plan_by_sku("jazz-renewal-week-10gb")
    plans = Plan.objects.bulk_create(
        Plan(
            operator_id=template.operator_id,
            provider_id=template.provider_id,
            provider_sku=f"bulk-renewal-{n}",
            kind=PlanKind.RENEWAL,
            name=f"Bulk renewal {n}",
            data_mb=1024,
            validity_days=7,
            period=Period.WEEKLY,
            cost=Decimal("100"),
            cost_currency=Currency.PKR,
            ordering=n % 13,
        )
        for n in range(count)
    )
    PlanPrice.objects.bulk_create(
        PlanPrice(plan=plan, currency=Currency.PKR, amount=Decimal("125")) for plan in plans
    )
    with django_assert_max_num_queries(RENEWAL_PLANS_BUDGET):
        response = api_client.get(f"{SIMS}{partner_sim.iccid}/renewal-plans/", {"page_size": 200})
    assert len(response.json()["results"]) == min(200, count + 3)
