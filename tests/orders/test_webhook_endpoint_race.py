"""A partner changing a webhook endpoint while it is being deleted gets 404, never a 500."""

import threading
from unittest import mock

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.services import issue_api_key
from core.models import AuditEntry
from orders.api.webhooks import WebhookEndpointDetailView
from orders.models.partner_webhooks import WebhookEndpoint
from orders.partner_webhooks import services as webhooks
from tests.factories import PartnerFactory

URL = "https://hooks.partner.example/paksim"


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)


@pytest.fixture
def api(endpoint):
    client = APIClient(raise_request_exception=False)
    key = issue_api_key(partner=endpoint.partner, name="Race")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plaintext}")
    return client


def deleted_first(method_name):
    """The view's ``method_name``, run after another request deleted the endpoint it found."""
    original = getattr(WebhookEndpointDetailView, method_name)

    def racing(view, target):
        instance = getattr(target, "instance", target)
        WebhookEndpoint.objects.filter(pk=instance.pk).delete()
        return original(view, target)

    return mock.patch.object(WebhookEndpointDetailView, method_name, racing)


def assert_json_not_found(response):
    assert response.status_code == 404, response.content
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "details": {}}
    }


def test_patch_of_an_endpoint_deleted_meanwhile_is_404(api, endpoint):
    with deleted_first("perform_update"):
        response = api.patch(
            f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"is_active": False}, format="json"
        )
    assert_json_not_found(response)
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not AuditEntry.objects.filter(action="webhook.endpoint_changed").exists()


def test_delete_of_an_endpoint_deleted_meanwhile_is_404_and_audited_once(api, endpoint):
    with deleted_first("perform_destroy"):
        response = api.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/")
    assert_json_not_found(response)
    assert not AuditEntry.objects.filter(action="webhook.endpoint_deleted").exists()


def test_the_services_say_not_found_for_a_missing_endpoint(endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
    with pytest.raises(webhooks.EndpointNotFound):
        webhooks.update_endpoint(endpoint=endpoint, changes={"is_active": False})
    with pytest.raises(webhooks.EndpointNotFound):
        webhooks.delete_endpoint(endpoint=endpoint)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_patch_waiting_on_a_delete_in_progress_is_404():
    """PostgreSQL: the PATCH waits for the DELETE's row lock, then finds no row."""
    assert connection.vendor == "postgresql"
    endpoint = WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)
    client = APIClient(raise_request_exception=False)
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {issue_api_key(partner=endpoint.partner, name='R').plaintext}"
    )
    locked, release, answers = threading.Event(), threading.Event(), {}

    def deleting():
        try:
            with transaction.atomic():
                WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
                locked.set()
                release.wait(10)
                WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        finally:
            connection.close()

    def patching():
        try:
            locked.wait(10)
            answers["patch"] = client.patch(
                f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"url": URL + "2"}, format="json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=deleting), threading.Thread(target=patching)]
    for thread in threads:
        thread.start()
    locked.wait(10)
    # The PATCH found the row (no lock needed to read it) and now waits for the lock.
    threading.Timer(1.0, release.set).start()
    for thread in threads:
        thread.join(20)
    assert_json_not_found(answers["patch"])
