"""Staff see the webhook delivery log read-only and can send a delivery again."""

import pytest
import responses

from orders.models.partner_webhooks import WebhookDelivery, WebhookEndpoint
from tests.factories import PartnerFactory, UserFactory
from tests.staff import login_staff

pytestmark = pytest.mark.django_db
URL = "https://hooks.partner.example/paksim"
DELIVERIES = "/admin/orders/webhookdelivery/"
ENDPOINTS = "/admin/orders/webhookendpoint/"


@pytest.fixture
def staff_client(client):
    login_staff(client, UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def delivery():
    endpoint = WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)
    return WebhookDelivery.objects.create(
        partner=endpoint.partner,
        endpoint=endpoint,
        url=URL,
        event_id="0b8f1d2e-6a55-4f0e-9d55-2d6f0c1b7a10",
        event_type="order.failed",
        payload={"id": "0b8f1d2e-6a55-4f0e-9d55-2d6f0c1b7a10", "data": {}},
        status=WebhookDelivery.Status.ABANDONED,
        attempts=11,
    )


def test_log_and_detail_are_read_only(staff_client, delivery):
    listing = staff_client.get(DELIVERIES)
    assert listing.status_code == 200 and URL in listing.content.decode()
    detail = staff_client.get(f"{DELIVERIES}{delivery.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert staff_client.get(f"{DELIVERIES}add/").status_code == 403
    endpoint_page = staff_client.get(f"{ENDPOINTS}{delivery.endpoint_id}/change/")
    assert delivery.endpoint.secret not in endpoint_page.content.decode()


def test_redeliver_action(staff_client, delivery, django_capture_on_commit_callbacks):
    with responses.RequestsMock() as http:
        http.post(URL, status=200)
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(
                DELIVERIES, {"action": "redeliver", "_selected_action": [delivery.pk]}
            )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED and delivery.attempts == 12


def test_switch_off_action(staff_client, delivery):
    response = staff_client.post(
        ENDPOINTS, {"action": "switch_off", "_selected_action": [delivery.endpoint_id]}
    )
    assert response.status_code == 302
    delivery.endpoint.refresh_from_db()
    assert not delivery.endpoint.is_active and delivery.endpoint.disabled_reason
