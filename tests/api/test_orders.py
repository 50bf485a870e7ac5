"""Orders and recharges through the API: paid from the wallet, guarded, idempotent, validated."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.services import revoke_api_key
from core.models import AuditEntry
from orders.models import Order, Sim, WalletEntry
from portal.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
RECHARGES = "/api/v1/recharges/"
LIST_BUDGET = 3  # key lookup, last-used stamp, the page (with the ICCIDs each order issued)
CACHED_KEY_LIST_BUDGET = 1  # the page


def debits(partner):
    return WalletEntry.objects.filter(partner=partner, kind=WalletEntry.Kind.ORDER_DEBIT)


def assert_nothing_written(partner):
    assert not Order.objects.exists()
    assert not debits(partner).exists()
    assert not AuditEntry.objects.filter(action__startswith="order.").exists()


def test_purchase_is_paid_from_the_wallet_and_fulfilled(
    api_client, api_partner, plan_by_sku, django_capture_on_commit_callbacks
):
    plan = plan_by_sku("jazz-esim-week-10gb")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            ORDERS,
            {
                "plan": plan.pk,
                "quantity": 2,
                "customer_reference": "trip-42",
                "webhook_url": "https://partner.example/hooks",
                "max_price": "1035.92",
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "purchase" and body["status"] == "paid"
    assert (body["plan"], body["quantity"], body["currency"]) == (plan.pk, 2, "PKR")
    assert body["total"] == "1035.92"
    assert body["customer_reference"] == "trip-42"
    assert body["webhook_url"] == "https://partner.example/hooks"
    assert body["paid_at"] and body["fulfilled_at"] is None
    assert [entry.amount for entry in debits(api_partner)] == [Decimal("-1035.92")]
    order = Order.objects.get(number=body["number"])
    assert order.webhook_url == "https://partner.example/hooks"
    assert (order.cost, order.cost_currency) == (plan.cost * 2, plan.cost_currency)

    detail = api_client.get(f"{ORDERS}{body['number']}/").json()
    assert detail["status"] == "fulfilled" and detail["fulfilled_at"]
    iccids = list(
        Sim.objects.filter(issued_by_order=order).order_by("id").values_list("iccid", flat=True)
    )
    assert len(iccids) == 2 and detail["sims"] == iccids


def test_max_price_below_the_total_is_refused(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-esim-week-10gb")
    response = api_client.post(
        ORDERS, {"plan": plan.pk, "quantity": 2, "max_price": "1035.91"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "price_changed"
    assert_nothing_written(api_partner)


def test_not_enough_balance_is_402(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-esim-month-60gb")
    response = api_client.post(ORDERS, {"plan": plan.pk, "quantity": 50}, format="json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert_nothing_written(api_partner)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": 999_999}, "plan"),
        ({"plan": "renewal"}, "plan"),
        ({"plan": "esim", "quantity": 0}, "quantity"),
        ({"plan": "esim", "quantity": 51}, "quantity"),
        ({"plan": "esim", "max_price": "-1"}, "max_price"),
        ({"plan": "esim", "max_price": "cheap"}, "max_price"),
        ({"plan": "esim", "webhook_url": "http://partner.example/hook"}, "webhook_url"),
        ({"plan": "esim", "customer_reference": "x" * 101}, "customer_reference"),
        ({"quantity": 1}, "plan"),
    ],
)
def test_bad_input_is_a_validation_error(api_client, api_partner, plan_by_sku, body, field):
    skus = {"esim": "jazz-esim-week-10gb", "renewal": "jazz-renewal-week-10gb"}
    if body.get("plan") in skus:
        body = {**body, "plan": plan_by_sku(skus[body["plan"]]).pk}
    response = api_client.post(ORDERS, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]
    assert_nothing_written(api_partner)


def test_malformed_json_is_400(api_client, api_partner):
    response = api_client.post(ORDERS, b'{"plan": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert_nothing_written(api_partner)


def test_a_form_body_is_415(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-esim-week-10gb")
    response = api_client.post(ORDERS, f"plan={plan.pk}", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert_nothing_written(api_partner)


def test_idempotency_key_replays_the_first_answer(api_client, api_partner, plan_by_sku):
    body = {"plan": plan_by_sku("jazz-esim-week-10gb").pk, "quantity": 3}
    first = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert debits(api_partner).count() == 1
    assert Order.objects.get().idempotency_key == "k-1"


def test_the_order_keeps_the_key_as_a_second_line_of_defence(api_client, api_partner, plan_by_sku):
    body = {"plan": plan_by_sku("jazz-esim-week-10gb").pk}
    key = "k" * 200  # longer than the order column: stored hashed
    first = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyRecord.objects.all().delete()
    again = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1 and debits(api_partner).count() == 1


def test_list_filters_and_detail(api_client, api_partner, plan_by_sku):
    esim, recharge = plan_by_sku("jazz-esim-week-10gb"), plan_by_sku("jazz-recharge-100")
    purchase = api_client.post(
        ORDERS, {"plan": esim.pk, "customer_reference": "a"}, format="json"
    ).json()
    topup = api_client.post(
        RECHARGES, {"plan": recharge.pk, "msisdn": "03001234567"}, format="json"
    ).json()
    Order.objects.filter(number=topup["number"]).update(
        created_at=timezone.now() - timedelta(days=3)
    )

    def numbers(**params):
        response = api_client.get(ORDERS, params)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers() == [purchase["number"], topup["number"]]
    assert numbers(kind="recharge") == [topup["number"]]
    assert numbers(status="paid") == [purchase["number"], topup["number"]]
    assert numbers(status="fulfilled") == []
    assert numbers(customer_reference="a") == [purchase["number"]]
    day_ago = (timezone.now() - timedelta(days=1)).isoformat()
    assert numbers(created_after=day_ago) == [purchase["number"]]
    assert numbers(created_before=day_ago) == [topup["number"]]
    assert api_client.get(ORDERS, {"status": "lost"}).status_code == 400
    detail = api_client.get(f"{ORDERS}{purchase['number']}/")
    assert detail.json() == purchase
    assert api_client.get(f"{ORDERS}PK-NOSUCH1/").status_code == 404


def test_a_placed_order_is_answered_as_its_detail(api_client, api_partner, plan_by_sku):
    """The answer to a POST is built from the order as placed, without reading it again."""
    esim, recharge = plan_by_sku("jazz-esim-week-10gb"), plan_by_sku("jazz-recharge-100")
    bodies = [
        (
            ORDERS,
            {
                "plan": esim.pk,
                "quantity": 3,
                "customer_reference": "trip-7",
                "webhook_url": "https://partner.example/hooks",
                "max_price": "99999",
            },
        ),
        (RECHARGES, {"plan": recharge.pk, "msisdn": "03001234567", "operator": "jazz"}),
    ]
    for url, body in bodies:
        response = api_client.post(url, body, format="json")
        assert response.status_code == 201, response.content
        answer = response.json()
        assert api_client.get(f"{ORDERS}{answer['number']}/").json() == answer


def test_recharge_detects_the_operator(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-recharge-100")
    response = api_client.post(
        RECHARGES, {"plan": plan.pk, "msisdn": "0300 1234567"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["msisdn"], body["sims"]) == ("recharge", "+923001234567", [])
    order = Order.objects.get(number=body["number"])
    assert order.recharge_operator.code == "jazz"
    assert debits(api_partner).get().amount == -order.total
    assert (order.cost, order.cost_currency) == (plan.cost, plan.cost_currency)


def test_recharge_of_a_ported_number_names_its_operator(api_client, plan_by_sku):
    plan = plan_by_sku("zong-recharge-100")
    body = {"plan": plan.pk, "msisdn": "+923001234567"}
    refused = api_client.post(RECHARGES, body, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "plan_does_not_fit"
    accepted = api_client.post(RECHARGES, {**body, "operator": "zong"}, format="json")
    assert accepted.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"msisdn": "12345"}, "msisdn"),
        ({"msisdn": "+14155550100"}, "msisdn"),
        ({}, "msisdn"),
        ({"msisdn": "03001234567", "operator": "vodafone"}, "operator"),
        ({"msisdn": "03001234567", "plan": "esim"}, "plan"),
        ({"msisdn": "03001234567", "max_price": "-0.01"}, "max_price"),
    ],
)
def test_recharge_bad_input(api_client, api_partner, plan_by_sku, body, field):
    plan = plan_by_sku("jazz-esim-week-10gb" if body.get("plan") else "jazz-recharge-100")
    response = api_client.post(RECHARGES, {**body, "plan": plan.pk}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and list(error["details"]) == [field]
    assert_nothing_written(api_partner)


def test_recharge_max_price_guard(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-recharge-100")
    body = {"plan": plan.pk, "msisdn": "03001234567", "max_price": "1.00"}
    response = api_client.post(RECHARGES, body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "price_changed"
    assert_nothing_written(api_partner)


def test_a_revoked_key_is_refused_at_once(api_client, api_key):
    assert api_client.get(ORDERS).status_code == 200
    revoke_api_key(api_key=api_key.api_key)
    response = api_client.get(ORDERS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_no_key_is_401(client):
    response = client.get(ORDERS)
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.parametrize("count", [10, 1000])
def test_query_budget(
    api_client, api_partner, plan_by_sku, make_sims, django_assert_num_queries, count
):
    plan = plan_by_sku("jazz-esim-week-10gb")
    orders = Order.objects.bulk_create(
        Order(
            kind=Order.Kind.PURCHASE,
            partner=api_partner,
            plan=plan,
            currency="PKR",
            subtotal=Decimal("517.96"),
            total=Decimal("517.96"),
            status=Order.Status.FULFILLED,
        )
        for _ in range(count)
    )
    for n, order in enumerate(orders[-60:]):
        make_sims(2, start=2 * n, issued_by_order=order)
    with django_assert_num_queries(LIST_BUDGET):
        response = api_client.get(ORDERS, {"page_size": 200})
    results = response.json()["results"]
    assert len(results) == min(200, count)
    assert sum(len(row["sims"]) for row in results) == 2 * min(60, count)
    with django_assert_num_queries(CACHED_KEY_LIST_BUDGET):
        assert api_client.get(response.json()["next"] or ORDERS).status_code == 200


@pytest.mark.parametrize(
    ("debug", "url", "accepted"),
    [
        (True, "http://partner.example/hook", True),
        (False, "http://partner.example/hook", False),
        (False, "http://127.0.0.1:9000/hook", True),
        (False, "https://169.254.169.254/latest/meta-data/", False),
        (False, "https://partner.example/hook", True),
    ],
)
def test_an_orders_webhook_url_follows_the_webhook_endpoints_rule(
    api_client, api_partner, plan_by_sku, settings, debug, url, accepted
):
    settings.DEBUG = debug
    plan = plan_by_sku("jazz-esim-week-10gb")
    order = api_client.post(ORDERS, {"plan": plan.pk, "webhook_url": url}, format="json")
    endpoint = api_client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
    assert (order.status_code, endpoint.status_code) == ((201, 201) if accepted else (400, 400))
    assert Order.objects.filter(webhook_url=url).exists() is accepted


def test_orders_answer_their_recorded_iccids_else_their_sims(
    api_client, api_partner, make_sims, plan_by_sku
):
    plan = plan_by_sku("jazz-esim-week-10gb")
    fields = {"partner": api_partner, "plan": plan, "kind": Order.Kind.PURCHASE, "currency": "PKR"}
    done = {"status": Order.Status.FULFILLED, "subtotal": Decimal(1), "total": Decimal(1)}
    before = Order.objects.create(**fields, **done)  # fulfilled before they were recorded
    issued = [sim.iccid for sim in make_sims(2, start=900, issued_by_order=before)]
    recorded = Order.objects.create(**fields, **done, issued_iccids="89920000000000000017 8992X")
    for sims, order in ((issued, before), (["89920000000000000017", "8992X"], recorded)):
        detail = api_client.get(f"{ORDERS}{order.number}/").json()
        row = next(
            r for r in api_client.get(ORDERS).json()["results"] if r["number"] == order.number
        )
        assert detail == row and row["sims"] == sims
