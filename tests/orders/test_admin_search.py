"""The admin searches over orders and SIMs: whole identifiers through their indexes."""

import pytest
from django.urls import reverse

from orders.models import Order, Sim
from portal.demo import load_demo_data
from tests.factories import CustomerFactory, OrderFactory, PartnerFactory, SimFactory, UserFactory
from tests.staff import login_staff


@pytest.fixture
def staff(db, client):
    load_demo_data()
    return login_staff(client, UserFactory(is_staff=True, is_superuser=True))


def listed(client, model, q: str) -> set[int]:
    url = reverse(f"admin:orders_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_order_number_is_found_in_any_case_and_only_whole(client, staff):
    order = OrderFactory()
    OrderFactory()
    assert listed(client, Order, order.number.lower()) == {order.pk}
    assert listed(client, Order, f"  {order.number} ") == {order.pk}
    assert listed(client, Order, order.number[:-1]) == set()


def test_an_iccid_finds_the_order_that_issued_the_sim_and_its_renewals(client, staff):
    issued = OrderFactory()
    sim = SimFactory(issued_by_order=issued, owner=issued.customer)
    renewal = OrderFactory(kind=Order.Kind.RENEWAL, sim=sim, customer=issued.customer)
    OrderFactory(kind=Order.Kind.RENEWAL, sim=SimFactory())
    assert listed(client, Order, sim.iccid) == {issued.pk, renewal.pk}


def test_a_customer_email_finds_only_that_customers_orders(client, staff):
    mine = OrderFactory()
    OrderFactory(customer=None, partner=PartnerFactory())
    assert listed(client, Order, mine.customer.email.upper()) == {mine.pk}
    assert listed(client, Order, "nobody@example.com") == set()


def test_sims_by_whole_iccid_number_or_owner_email(client, staff):
    owner = CustomerFactory(email="Li.Wei@example.com")
    sim = SimFactory(owner=owner, msisdn="+923001234567")
    other = SimFactory(msisdn="+923009999999")
    assert listed(client, Sim, sim.iccid) == {sim.pk}
    assert listed(client, Sim, "+923001234567") == {sim.pk}
    assert listed(client, Sim, "li.wei@EXAMPLE.com") == {sim.pk}
    assert listed(client, Sim, other.iccid[-6:]) == {other.pk}  # a part: the default search
    assert listed(client, Sim, "li.wei") == {sim.pk}
