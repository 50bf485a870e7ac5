"""Rows of one partner for the contract suite: each maker makes ``count`` rows and answers the
URL kwargs that address them (the object itself, or the parent whose list holds them)."""

import uuid

from django.utils import timezone

from plans.models import PlanKind
from tests.api.contract.routes import view_of
from tests.factories import (
    OrderFactory,
    PlanFactory,
    PlanPriceFactory,
    ReplacementTicketFactory,
    SimFactory,
    WalletEntryFactory,
)


def priced_plans(partner, count: int, **fields) -> list:
    """``count`` active plans with a price in the partner's currency (the catalog shows them)."""
    plans = PlanFactory.create_batch(count, **fields)
    for plan in plans:
        PlanPriceFactory(plan=plan, currency=partner.currency)
    return plans


def plans(partner, count: int = 1) -> dict:
    return {"pk": priced_plans(partner, count)[-1].pk}


def orders(partner, count: int = 1) -> dict:
    made = OrderFactory.create_batch(count, partner=partner, customer=None)
    return {"number": made[-1].number}


def sims(partner, count: int = 1) -> dict:
    made = SimFactory.create_batch(count, partner=partner, owner=None)
    return {"iccid": made[-1].iccid}


def renewal_plans(partner, count: int = 1) -> dict:
    """A SIM of the partner's and ``count`` renewal plans of its operator."""
    sim = SimFactory(partner=partner, owner=None)
    priced_plans(partner, count, kind=PlanKind.RENEWAL, operator=sim.operator)
    return {"iccid": sim.iccid}


def replacements(partner, count: int = 1) -> dict:
    made = [
        ReplacementTicketFactory(
            sim=SimFactory(partner=partner, owner=None),
            partner=partner,
            identity_check__partner=partner,
        )
        for _ in range(count)
    ]
    return {"pk": made[-1].pk}


def wallet_entries(partner, count: int = 1) -> dict:
    WalletEntryFactory.create_batch(count, partner=partner, currency=partner.currency)
    return {}


def conversations(partner, count: int = 1) -> dict:
    from support.services import open_conversation

    made = [
        open_conversation(partner=partner, category="other", body=f"Question {n}")
        for n in range(count)
    ]
    return {"pk": made[-1].pk}


def nothing(partner, count: int = 1) -> dict:
    """Routes that read the partner itself (the wallet) or only create (recharges)."""
    return {}


def webhook_endpoint(partner):
    endpoint_model = view_of("api-webhook-endpoint-list").queryset.model
    return endpoint_model.objects.create(partner=partner, url="https://hooks.example/paksim")


def webhook_endpoints(partner, count: int = 1) -> dict:
    made = [webhook_endpoint(partner) for _ in range(count)]
    return {"pk": made[-1].pk}


def deliveries(partner, count: int = 1, endpoint=None) -> list:
    """``count`` deliveries to one endpoint of the partner's, each with one attempt."""
    endpoint = endpoint or webhook_endpoint(partner)
    delivery_model = view_of("api-webhook-delivery-list").queryset.model
    made = []
    for _ in range(count):
        event_id, now = uuid.uuid4(), timezone.now()
        delivery = delivery_model.objects.create(
            partner=partner,
            endpoint=endpoint,
            url=endpoint.url,
            event_id=event_id,
            event_type="order.fulfilled",
            payload={
                "id": str(event_id),
                "type": "order.fulfilled",
                "created": now.isoformat(),
                "data": {},
            },
        )
        delivery.attempt_log.create(number=1, url=endpoint.url, started_at=now)
        made.append(delivery)
    return made


def webhook_deliveries(partner, count: int = 1) -> dict:
    return {"pk": deliveries(partner, count)[-1].pk}


def endpoint_deliveries(partner, count: int = 1) -> dict:
    endpoint = webhook_endpoint(partner)
    deliveries(partner, count, endpoint=endpoint)
    return {"endpoint_id": endpoint.pk}


def order_webhook_secret(partner, count: int = 1) -> dict:
    view_of("api-order-webhook-secret").queryset.model.objects.create(partner=partner)
    return {}
