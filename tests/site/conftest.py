"""Fixtures for the customer site: the demo catalog, signed-in shoppers, a paid order."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from orders.models import Order
from plans.models import Plan, PlanKind, PlanPrice
from tests.factories import PlanFactory
from tests.orders.conftest import catalog, customer, esim_plan  # noqa: F401

# The buy form's box: the customer's phone supports eSIM.
PHONE_CONFIRMED = {"esim_compatible": "on"}


@pytest.fixture
def shopper(client, customer):  # noqa: F811
    """The test client, signed in as the demo customer."""
    client.force_login(customer)
    return client


@pytest.fixture
def stranger(db):
    return User.objects.create_user(email="stranger@example.com", password="x-unused-password")


@pytest.fixture
def buy(shopper):
    """Buy a plan through the site; returns the new order."""

    def _buy(plan: Plan, currency: str = "PKR", promotion_code: str = "") -> Order:
        response = shopper.post(
            reverse("orders:buy", args=[plan.pk]),
            {"currency": currency, "promotion_code": promotion_code, **PHONE_CONFIRMED},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        number = response["Location"].split("/")[-3]
        return Order.objects.get(number=number)

    return _buy


def add_plans(count: int, **fields) -> list[Plan]:
    """``count`` more eSIM plans (Jazz), priced in PKR, USD and CNY."""
    plans = PlanFactory.create_batch(count, kind=PlanKind.ESIM, **fields)
    PlanPrice.objects.bulk_create(
        PlanPrice(plan=plan, currency=currency, amount=Decimal(amount))
        for plan in plans
        for currency, amount in (("PKR", "700"), ("USD", "2.99"), ("CNY", "18.99"))
    )
    return plans


@pytest.fixture
def pay_by_card(shopper, django_capture_on_commit_callbacks):
    """Pay an order on the site's pay page, then press a button on the test gateway's page."""

    def _pay(order: Order, action: str = "pay", method: str = "test:card"):
        response = shopper.post(reverse("orders:pay", args=[order.number]), {"method": method})
        assert response.status_code == 302, response.content.decode()[:2000]
        with django_capture_on_commit_callbacks(execute=True):
            response = shopper.post(response["Location"], {"action": action})
        order.refresh_from_db()
        return response

    return _pay


@pytest.fixture
def ready_order(buy, pay_by_card, esim_plan):  # noqa: F811
    """A purchase bought and paid through the site, provisioned and emailed."""
    order = buy(esim_plan)
    pay_by_card(order)
    assert order.status == Order.Status.FULFILLED
    return order
