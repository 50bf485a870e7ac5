"""Removing a Stripe card (HTTP faked by ``responses``): detached there, revoked here regardless."""

import logging
from datetime import timedelta

import pytest
import responses
import time_machine

from orders.models import AutoRenewal, AutoRenewalCharge, SavedPaymentMethod
from orders.services.autorenew.charges import run_auto_renewals
from tests.orders.test_card_removal import make_card, renew_with
from tests.orders.test_stripe_gateway import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_keys")]
DETACH = f"{API}/payment_methods/pm_1/detach"


@pytest.fixture
def stripe_renewal(bought_sim, customer):
    card = make_card(customer, "pm_1", gateway="stripe")
    if bought_sim.expires_at is None:
        bought_sim.expires_at = bought_sim.created_at + timedelta(days=7)
        bought_sim.save(update_fields=["expires_at"])
    return renew_with(bought_sim, card)


def remove(client, renewal, capture):
    client.force_login(renewal.sim.owner)
    with capture(execute=True):
        response = client.post(f"/account/cards/{renewal.payment_method_id}/remove/")
    assert response.status_code == 302
    return SavedPaymentMethod.objects.get(pk=renewal.payment_method_id)


@responses.activate
def test_the_payment_method_is_detached_at_stripe(
    client, stripe_renewal, django_capture_on_commit_callbacks
):
    detached = responses.post(
        DETACH, json={"id": "pm_1", "object": "payment_method", "customer": None}
    )
    card = remove(client, stripe_renewal, django_capture_on_commit_callbacks)

    assert detached.call_count == 1
    assert detached.calls[0].request.headers["Authorization"] == "Bearer sk_test_x"
    assert len(responses.calls) == 1
    assert card.revoked_at is not None
    assert AutoRenewal.objects.get().enabled is False


@pytest.mark.parametrize("status", [400, 500])
@responses.activate
def test_a_stripe_error_on_detach_still_revokes_the_card_and_is_logged(
    status, client, stripe_renewal, django_capture_on_commit_callbacks, caplog
):
    error = {"error": {"type": "invalid_request_error", "message": "No such PaymentMethod"}}
    responses.post(DETACH, status=status, json=error)
    with caplog.at_level(logging.ERROR, logger="orders.services.card_removal"):
        card = remove(client, stripe_renewal, django_capture_on_commit_callbacks)

    assert card.revoked_at is not None and not card.usable
    assert AutoRenewal.objects.get().enabled is False
    [record] = [r for r in caplog.records if r.name == "orders.services.card_removal"]
    assert "pm_1" in record.getMessage() and "not detached" in record.getMessage()

    AutoRenewal.objects.update(enabled=True)  # even were auto-renew on again, no charge is sent
    due = stripe_renewal.sim.expires_at - timedelta(hours=23)
    with time_machine.travel(due, tick=False), django_capture_on_commit_callbacks(execute=True):
        run_auto_renewals()
    assert not AutoRenewalCharge.objects.exists()
    assert [call.request.url for call in responses.calls] == [DETACH]
