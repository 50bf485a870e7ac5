import pytest

from accounts.models import User
from orders.models import Order
from orders.services.lifecycle import PAYABLE_STATES
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import Plan, PlanKind
from tests.worlds import build_customer

STRIPE_WEBHOOK_SECRET = "whsec_test"


@pytest.fixture
def catalog(world_catalog):
    """The sandbox catalog of ``tests.worlds`` (its plans and prices are listed there)."""


@pytest.fixture
def customer(catalog) -> User:
    """The customer of ``tests.worlds``, over its catalog."""
    return build_customer()


def plan_of(kind: str, operator: str = "jazz", **filters) -> Plan:
    return Plan.objects.filter(kind=kind, operator__code=operator, **filters).order_by("pk").first()


@pytest.fixture
def stripe_keys(settings):
    """Stripe's keys set (its HTTP faked with ``responses`` by each test); customers still pay
    at the test gateway, whose events the test sends itself."""
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET


@pytest.fixture
def stripe_settings(stripe_keys, settings):
    """Stripe configured as in production: its keys, and the gateway customers pay at."""
    settings.PAYMENT_GATEWAY = "stripe"


@pytest.fixture
def esim_plan(catalog):
    return plan_of(PlanKind.ESIM, provider_sku__contains="week")


@pytest.fixture
def pay(client, django_capture_on_commit_callbacks):
    """Pay an order through the test gateway's checkout page; returns the response."""

    def _pay(order: Order, action: str = "pay", currency_method="card"):
        payment = order.payments.order_by("-pk").first()
        if payment is None or (payment.status != "pending" and order.status in PAYABLE_STATES):
            payment, _ = start_payment(order=order, gateway_key="test", method=currency_method)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/pay/test/{payment.external_reference}/", {"action": action})
        order.refresh_from_db()
        return response

    return _pay


@pytest.fixture
def bought_sim(customer, esim_plan, pay):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay(order)
    return order.issued_sims.get()


@pytest.fixture
def order(customer, esim_plan):
    """The customer's purchase of a week's eSIM, not paid yet."""
    return place_purchase(plan=esim_plan, customer=customer, currency="PKR")
