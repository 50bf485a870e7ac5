"""Fixtures for the My SIMs, install, renewal and recharge pages (loaded with pytest_plugins).

Names are prefixed so they never clash with the other site fixtures in ``conftest.py``.
Also a URLconf that adds a ``sims:replace`` page, for the replacement link.
"""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import Order, Sim
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import Operator, Plan, PlanKind
from tests.factories import make_iccid
from tests.worlds import build_customer

_iccids = itertools.count(700_000)


@pytest.fixture
def sims_catalog(world_catalog):
    """The sandbox catalog of ``tests.worlds``."""


@pytest.fixture
def sims_owner(sims_catalog):
    """The customer of ``tests.worlds``."""
    return build_customer()


@pytest.fixture
def sims_other(db):
    return User.objects.create_user(email="someone.else@example.com", password="x-unused-pw-1")


@pytest.fixture
def sims_client(client, sims_owner):
    """The test client signed in as the customer."""
    client.force_login(sims_owner)
    return client


@pytest.fixture
def sims_make(sims_owner):
    """Create a SIM row for a page to show (defaults: an active Jazz eSIM, 10 GB, 20 days)."""

    def _make(**fields) -> Sim:
        number = next(_iccids)
        jazz = Operator.objects.get(code="jazz")
        defaults = {
            "iccid": make_iccid(number),
            "owner": sims_owner,
            "operator": jazz,
            "status": Sim.Status.ACTIVE,
            "activation_code": f"LPA:1$rsp.sandbox.example${number:08d}ABCDEF",
            "current_plan": Plan.objects.filter(operator=jazz, kind="esim").first(),
            "data_total_mb": 10240,
            "data_remaining_mb": 10240,
            "expires_at": timezone.now() + timedelta(days=20),
        }
        defaults.update(fields)
        return Sim.objects.create(**defaults)

    return _make


@pytest.fixture
def sims_pay(client, django_capture_on_commit_callbacks):
    """Pay an order on the test gateway's checkout page, running the after-commit work."""

    def _pay(order: Order) -> Order:
        payment, _started = start_payment(order=order, gateway_key="test", method="card")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/pay/test/{payment.external_reference}/", {"action": "pay"})
        assert response.status_code in (200, 302)
        order.refresh_from_db()
        return order

    return _pay


@pytest.fixture
def sims_bought_esim(sims_owner, sims_pay) -> Sim:
    """An eSIM bought and paid for through the sandbox provider and the test gateway."""
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="jazz").order_by("pk").first()
    order = place_purchase(plan=plan, customer=sims_owner, currency="PKR")
    return sims_pay(order).issued_sims.get()
