"""A partner order's audit trail, placed through the API and provisioned: every entry, in the
order the changes happened (each transaction writes its entries together)."""

from decimal import Decimal

import pytest

from core import audit
from orders.models import Order
from tests.worlds import PARTNER_SLUG

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def trail(target) -> list[tuple]:
    entries = audit.entries_for(target).order_by("id")
    return [(e.action, e.before, e.after, e.actor_label) for e in entries]


def test_a_placed_and_provisioned_order_has_its_whole_trail(
    api_client, plan_by_sku, django_capture_on_commit_callbacks
):
    plan = plan_by_sku("jazz-esim-week-10gb")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            ORDERS, {"plan": plan.pk}, format="json", HTTP_IDEMPOTENCY_KEY="trail-1"
        )
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    attempt = order.provisioning_attempts.get()

    assert order.status == Order.Status.FULFILLED
    assert trail(order) == [
        (
            "order.placed",
            {},
            {"total": str(order.total.quantize(Decimal("0.01"))), "currency": "PKR"},
            f"partner:{PARTNER_SLUG}",
        ),
        ("order.status", {"status": "created"}, {"status": "paid"}, "payments"),
        ("order.status", {"status": "paid"}, {"status": "provisioning"}, "worker"),
        ("order.status", {"status": "provisioning"}, {"status": "fulfilled"}, "worker"),
    ]
    assert trail(attempt) == [
        ("provisioningattempt.outcome", {"outcome": "in_progress"}, {"outcome": "succeeded"}, "")
    ]
    attempt_entry = audit.entries_for(attempt).get()
    fulfilled_entry = audit.entries_for(order).get(after={"status": "fulfilled"})
    assert attempt_entry.pk < fulfilled_entry.pk  # one INSERT, in the order recorded
