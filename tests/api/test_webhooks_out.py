"""Outgoing webhooks through the partner API: endpoints, signed deliveries, the delivery log."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
import responses
from django.utils import timezone

from orders.models import Order
from orders.models.partner_webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orders.services.placing import place_purchase

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"
HOOK_URL = "https://hooks.partner.example/paksim"
ORDER_URL = "https://shop.partner.example/orders/hook"
LIST_BUDGET = 3  # key lookup, last-used stamp, the page
LOG_BUDGET = 5  # key lookup, last-used stamp, the endpoint, the page, its attempts


def verify_signature(body: bytes, headers, secret: str, tolerance: int = 300) -> bool:
    """What a partner writes by hand from docs/partner-webhooks.md (Standard Webhooks)."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, sig.partition(",")[2])
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(HOOK_URL, status=200)
        mock.post(ORDER_URL, status=200)
        yield mock


@pytest.fixture
def created(api_client):
    response = api_client.post(
        ENDPOINTS, {"url": HOOK_URL, "events": ["order.fulfilled", "order.failed"]}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def calls_to(http, url):
    return [call.request for call in http.calls if call.request.url == url]


def test_fulfilled_order_is_signed_and_sent_to_the_endpoint_and_the_order_url(
    api_client, api_partner, created, http, plan_by_sku, django_capture_on_commit_callbacks
):
    order_secret = api_client.post("/api/v1/order-webhook-secret/").json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        order = place_purchase(
            plan=plan_by_sku("jazz-esim-week-10gb"),
            partner=api_partner,
            customer_reference="trip-42",
            webhook_url=ORDER_URL,
        )
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    (to_endpoint,) = calls_to(http, HOOK_URL)
    (to_order,) = calls_to(http, ORDER_URL)
    for request, secret in ((to_endpoint, created["secret"]), (to_order, order_secret)):
        assert request.headers["Content-Type"] == "application/json"
        assert verify_signature(request.body, request.headers, secret)
        body = json.loads(request.body)
        assert request.headers["webhook-id"] == request.headers["Paksim-Event-Id"] == body["id"]
        assert body["type"] == "order.fulfilled" and body["created"].endswith("Z")
        assert body["data"] == {
            "order": order.number,
            "kind": "purchase",
            "status": "fulfilled",
            "customer_reference": "trip-42",
            "sims": [order.issued_sims.get().iccid],
        }
    assert json.loads(to_endpoint.body)["id"] == json.loads(to_order.body)["id"]
    assert not verify_signature(to_order.body, to_order.headers, created["secret"])


def test_signature_fails_for_a_tampered_body_another_secret_or_an_old_timestamp(
    api_client, api_partner, created, http, django_capture_on_commit_callbacks
):
    from orders.partner_webhooks import services as webhooks

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(partner=api_partner, event_type="order.failed", data={"order": "PK-1"})
    (request,) = calls_to(http, HOOK_URL)
    headers, secret = request.headers, created["secret"]
    assert verify_signature(request.body, headers, secret)
    assert not verify_signature(request.body.replace(b"PK-1", b"PK-2"), headers, secret)
    assert not verify_signature(
        request.body, headers, "whsec_" + base64.b64encode(b"x" * 32).decode()
    )
    assert not verify_signature(request.body, headers, secret, tolerance=-1)


def test_create_shows_the_secret_once(api_client, created):
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"), validate=True)) == 32
    assert created["events"] == ["order.failed", "order.fulfilled"] and created["is_active"]
    listed = api_client.get(ENDPOINTS).json()["results"]
    detail = api_client.get(f"{ENDPOINTS}{created['id']}/").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0] and "secret" not in detail
    assert created["secret"] not in json.dumps([listed, detail])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://hooks.partner.example/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "https://[fd00::1]/hook"}, "url"),
        ({"url": HOOK_URL, "events": ["order.exploded"]}, "events"),
    ],
)
def test_bad_endpoints_are_refused(api_client, settings, body, field):
    settings.DEBUG = False
    response = api_client.post(ENDPOINTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert not WebhookEndpoint.objects.exists()


def test_patch_and_delete(api_client, created):
    url = f"{ENDPOINTS}{created['id']}/"
    response = api_client.patch(url, {"events": [], "is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["events"] == [] and not response.json()["is_active"]
    assert response.json()["disabled_reason"]
    response = api_client.patch(url, {"is_active": True}, format="json")
    assert response.json()["is_active"] and response.json()["disabled_reason"] == ""
    assert api_client.put(url, {"url": HOOK_URL}, format="json").status_code == 405
    assert api_client.delete(url).status_code == 204
    assert api_client.get(url).status_code == 404


def test_another_partners_endpoints_and_deliveries_are_404(
    other_partner_client, api_partner, created
):
    delivery = make_deliveries(WebhookEndpoint.objects.get(pk=created["id"]), 1)[0]
    for path in (
        f"{ENDPOINTS}{created['id']}/",
        f"{ENDPOINTS}{created['id']}/deliveries/",
        f"{DELIVERIES}{delivery.pk}/",
    ):
        assert other_partner_client.get(path).status_code == 404, path
    assert (
        other_partner_client.patch(f"{ENDPOINTS}{created['id']}/", {}, format="json").status_code
        == 404
    )
    assert other_partner_client.delete(f"{ENDPOINTS}{created['id']}/").status_code == 404
    assert other_partner_client.post(f"{DELIVERIES}{delivery.pk}/redeliver/").status_code == 404
    assert other_partner_client.get(ENDPOINTS).json()["results"] == []
    assert other_partner_client.get(DELIVERIES).json()["results"] == []
    assert WebhookEndpoint.objects.filter(pk=created["id"]).exists()


def make_deliveries(endpoint, count: int, attempts: int = 2) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            partner=endpoint.partner,
            endpoint=endpoint,
            url=endpoint.url,
            event_id=uuid.uuid4(),
            event_type="order.fulfilled",
            payload={
                "id": str(uuid.uuid4()),
                "type": "order.fulfilled",
                "created": "2026-03-02T09:00:00Z",
                "data": {"order": f"PK-{n}", "status": "fulfilled"},
            },
            status=WebhookDelivery.Status.FAILED,
            attempts=attempts,
            next_attempt_at=now,
            last_status_code=500,
        )
        for n in range(count)
    )
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(
            delivery=delivery,
            number=number,
            url=endpoint.url,
            outcome=WebhookAttempt.Outcome.FAILED,
            status_code=500,
            duration_ms=120,
            error="HTTP 500",
            started_at=now,
            finished_at=now,
        )
        for delivery in deliveries
        for number in range(1, attempts + 1)
    )
    return deliveries


def test_delivery_log_shows_every_attempt(api_client, created):
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    newest = make_deliveries(endpoint, 3)[-1]
    page = api_client.get(f"{ENDPOINTS}{created['id']}/deliveries/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    first = page["results"][0]
    assert first["id"] == newest.pk and first["status"] == "failed"
    assert first["attempt_count"] == 2 and first["last_status_code"] == 500
    assert [a["number"] for a in first["attempts"]] == [1, 2]
    assert first["attempts"][0]["status_code"] == 500 and first["attempts"][0]["duration_ms"]
    assert first["body"]["type"] == "order.fulfilled"
    filtered = api_client.get(f"{DELIVERIES}?status=succeeded").json()["results"]
    assert filtered == []


def test_redeliver_answers_202_and_sends_now(
    api_client, created, http, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    delivery = make_deliveries(endpoint, 1)[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 3
    assert len(calls_to(http, HOOK_URL)) == 1


def test_redeliver_to_a_disabled_endpoint_is_409(api_client, created):
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    delivery = make_deliveries(endpoint, 1)[0]
    api_client.patch(f"{ENDPOINTS}{endpoint.pk}/", {"is_active": False}, format="json")
    response = api_client.post(f"{DELIVERIES}{delivery.pk}/redeliver/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "endpoint_disabled"


def test_order_webhook_secret_is_shown_once_and_rotates(api_client):
    assert api_client.get("/api/v1/order-webhook-secret/").status_code == 404
    first = api_client.post("/api/v1/order-webhook-secret/").json()["secret"]
    second = api_client.post("/api/v1/order-webhook-secret/").json()["secret"]
    assert first != second and first.startswith("whsec_")
    shown = api_client.get("/api/v1/order-webhook-secret/").json()
    assert set(shown) == {"created_at"}


@pytest.mark.parametrize("count", [10, 1000])
def test_endpoint_list_query_budget(api_client, api_partner, count, django_assert_num_queries):
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(partner=api_partner, url=f"{HOOK_URL}/{n}") for n in range(count)
    )
    with django_assert_num_queries(LIST_BUDGET):
        response = api_client.get(f"{ENDPOINTS}?page_size=200")
    assert len(response.json()["results"]) == min(count, 200)


@pytest.mark.parametrize("count", [10, 1000])
def test_delivery_log_query_budget(api_client, created, count, django_assert_num_queries):
    make_deliveries(WebhookEndpoint.objects.get(pk=created["id"]), count)
    api_client.get(ENDPOINTS)  # the last-used stamp is written at most once a minute
    with django_assert_num_queries(LOG_BUDGET - 2):  # the key cached, no last-used stamp
        response = api_client.get(f"{ENDPOINTS}{created['id']}/deliveries/?page_size=200")
    assert len(response.json()["results"]) == min(count, 200)
    with django_assert_num_queries(LOG_BUDGET - 3):
        response = api_client.get(f"{DELIVERIES}?page_size=200")
    assert len(response.json()["results"]) == min(count, 200)


def test_a_host_resolving_to_a_private_address_is_not_sent_to_and_the_log_says_why(
    api_client, api_partner, created, http, monkeypatch, django_capture_on_commit_callbacks
):
    from orders.partner_webhooks import services as webhooks
    from orders.partner_webhooks import transport as webhook_transport

    monkeypatch.setattr(webhook_transport, "resolve", lambda host, port: ["169.254.169.254"])
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(partner=api_partner, event_type="order.failed", data={"order": "PK-1"})
    assert calls_to(http, HOOK_URL) == []
    (delivery,) = api_client.get(f"{ENDPOINTS}{created['id']}/deliveries/").json()["results"]
    assert delivery["status"] == "failed" and delivery["next_attempt_at"]
    (attempt,) = delivery["attempts"]
    assert "resolves to a private address" in attempt["error"] and attempt["status_code"] is None
