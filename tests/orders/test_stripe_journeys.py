"""Purchase, renewal and recharge paid through Stripe (its HTTP faked), end to end."""

from decimal import Decimal

import pytest
import responses

from core import signing
from core.money import to_minor_units
from orders.models import Order
from orders.services.payment_events import receive_webhook
from orders.services.payments import start_payment
from orders.services.placing import place_order
from plans.models import PlanKind
from plans.providers import get_adapter
from tests.factories import SimFactory
from tests.orders.conftest import plan_of
from tests.orders.test_stripe_gateway import (
    SECRET,
    SESSIONS,
    expect_session_read,
    session_json,
    signed_body,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_settings")]


@pytest.mark.parametrize("kind", ["purchase", "renewal", "recharge"])
@responses.activate
def test_each_order_kind_is_paid_by_stripe_and_provisioned(
    kind, customer, django_capture_on_commit_callbacks
):
    plan = {
        "purchase": plan_of(PlanKind.ESIM),
        "renewal": plan_of(PlanKind.RENEWAL),
        "recharge": plan_of(PlanKind.RECHARGE, airtime_amount=Decimal("300")),
    }[kind]
    issued = get_adapter(plan.provider).issue_esim(
        reference="earlier-order", plan_sku=plan_of(PlanKind.ESIM).provider_sku
    )
    sim = SimFactory(owner=customer, operator=plan.operator, iccid=issued.iccid)
    order = place_order(
        kind=kind,
        plan=plan,
        customer=customer,
        currency="USD",
        sim=sim if kind == "renewal" else None,
        msisdn="03001234567",
    )
    amount = to_minor_units(order.total, "USD")
    responses.post(
        SESSIONS, json=session_json(payment_status="unpaid", amount=amount, currency="usd")
    )
    start_payment(
        order=order,
        gateway_key="stripe",
        method="alipay",
        success_url="https://paksim.example/ok",
        cancel_url="https://paksim.example/no",
    )
    expect_session_read(payment_status="paid", amount=amount, currency="usd")
    body = signed_body()
    with django_capture_on_commit_callbacks(execute=True):
        receive_webhook(
            source="stripe", body=body, headers={"Stripe-Signature": signing.sign(body, SECRET)}
        )
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.payments.get().method == "alipay"
