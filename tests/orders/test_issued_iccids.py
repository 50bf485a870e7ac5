"""The ICCIDs an order issued, recorded on it with its fulfilment: what the partner API's order
list, its detail and the ``order.fulfilled`` webhook read, without a query for its SIMs."""

import importlib
from types import SimpleNamespace

import pytest
import responses
from django.apps import apps
from django.db import connection
from django.utils import timezone

from orders.models import Order, Sim
from orders.models.partner_webhooks import WebhookDelivery, WebhookEndpoint
from orders.services import provisioning
from orders.services.placing import place_purchase, place_recharge, place_replacement
from plans.models import Plan, PlanKind
from tests.factories import OrderFactory, SimFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("orders.migrations.0027_order_issued_iccids")
HOOK_URL = "https://hooks.partner.example/paksim"


def iccids_of_sims(order: Order) -> list[str]:
    return list(order.issued_sims.order_by("id").values_list("iccid", flat=True))


def fulfil(order: Order) -> Order:
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    assert provisioning.provision_order(order.pk) == Order.Status.FULFILLED
    order.refresh_from_db()
    return order


def test_a_purchase_records_its_esims_oldest_first(esim_plan, world_partner):
    order = fulfil(place_purchase(plan=esim_plan, partner=world_partner, quantity=3))
    assert len(iccids_of_sims(order)) == 3
    assert order.issued_iccids == " ".join(iccids_of_sims(order))
    assert order.issued_iccid_list() == iccids_of_sims(order)


def test_a_replacement_records_the_new_sim(bought_sim, customer, esim_plan):
    fee = Plan.objects.get(kind=PlanKind.REPLACEMENT, operator=esim_plan.operator)
    order = fulfil(place_replacement(plan=fee, customer=customer, currency="PKR", sim=bought_sim))
    bought_sim.refresh_from_db()
    assert order.issued_iccids == bought_sim.replaced_by.iccid


def test_a_recharge_records_that_it_issued_none(customer, catalog):
    plan = Plan.objects.filter(kind=PlanKind.RECHARGE, operator__code="jazz").first()
    order = place_recharge(plan=plan, customer=customer, msisdn="0300 1234567", currency="PKR")
    assert order.issued_iccids is None  # unknown until fulfilled
    assert fulfil(order).issued_iccids == ""
    assert order.issued_iccid_list() == []


def test_an_order_fulfilled_before_they_were_recorded_reads_its_sims(esim_plan, world_partner):
    order = fulfil(place_purchase(plan=esim_plan, partner=world_partner, quantity=2))
    Order.objects.filter(pk=order.pk).update(issued_iccids=None)
    order.refresh_from_db()
    assert order.issued_iccid_list() == iccids_of_sims(order) and len(iccids_of_sims(order)) == 2


@responses.activate
def test_the_fulfilled_webhook_sends_the_recorded_iccids(
    esim_plan, world_partner, django_capture_on_commit_callbacks
):
    responses.post(HOOK_URL, status=200)
    WebhookEndpoint.objects.create(partner=world_partner, url=HOOK_URL)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_purchase(plan=esim_plan, partner=world_partner, quantity=2)
    order.refresh_from_db()
    delivery = WebhookDelivery.objects.get(event_type="order.fulfilled")
    assert delivery.payload["data"]["sims"] == order.issued_iccids.split() == iccids_of_sims(order)


def test_the_migration_records_what_fulfilled_orders_issued_in_batches(monkeypatch):
    done = {"status": Order.Status.FULFILLED, "fulfilled_at": timezone.now()}
    fulfilled = OrderFactory.create_batch(3, **done)
    for number, order in enumerate(fulfilled):
        SimFactory.create_batch(number, issued_by_order=order)
    open_order = OrderFactory(status=Order.Status.PAID)
    SimFactory(issued_by_order=open_order)  # issued while it was refunded, say: not fulfilled
    recorded = OrderFactory(**done, issued_iccids="kept")
    monkeypatch.setattr(migration, "BATCH", 2)

    migration.record_issued_iccids(apps, SimpleNamespace(connection=connection))

    for order in fulfilled:
        order.refresh_from_db()
        assert order.issued_iccids == " ".join(iccids_of_sims(order))
    assert [len(o.issued_iccid_list()) for o in fulfilled] == [0, 1, 2]
    assert Order.objects.get(pk=open_order.pk).issued_iccids is None
    assert Order.objects.get(pk=recorded.pk).issued_iccids == "kept"
    assert Sim.objects.count() == 4
