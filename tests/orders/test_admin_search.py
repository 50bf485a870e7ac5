"""The admin searches over orders and SIMs: whole identifiers through their indexes."""

from django.urls import reverse

from orders.models import Order, Sim
from tests.factories import CustomerFactory, OrderFactory, PartnerFactory, SimFactory


def listed(client, model, q: str) -> set[int]:
    url = reverse(f"admin:orders_{model._meta.model_name}_changelist")
    response = client.get(url, {"q": q})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_order_number_is_found_in_any_case_and_only_whole(client, signed_in_superuser):
    order = OrderFactory()
    OrderFactory()
    assert listed(client, Order, order.number.lower()) == {order.pk}
    assert listed(client, Order, f"  {order.number} ") == {order.pk}
    assert listed(client, Order, order.number[:-1]) == set()


def test_an_iccid_finds_the_order_that_issued_the_sim_and_its_renewals(client, signed_in_superuser):
    issued = OrderFactory()
    sim = SimFactory(issued_by_order=issued, owner=issued.customer)
    renewal = OrderFactory(kind=Order.Kind.RENEWAL, sim=sim, customer=issued.customer)
    OrderFactory(kind=Order.Kind.RENEWAL, sim=SimFactory())
    assert listed(client, Order, sim.iccid) == {issued.pk, renewal.pk}


def test_a_customer_email_finds_only_that_customers_orders(client, signed_in_superuser):
    mine = OrderFactory()
    OrderFactory(customer=None, partner=PartnerFactory())
    assert listed(client, Order, mine.customer.email.upper()) == {mine.pk}
    assert listed(client, Order, "nobody@example.com") == set()


def test_sims_by_whole_iccid_number_or_owner_email(client, signed_in_superuser):
    owner = CustomerFactory(email="Li.Wei@example.com")
    sim = SimFactory(owner=owner, msisdn="+923001234567")
    other = SimFactory(msisdn="+923009999999")
    assert listed(client, Sim, sim.iccid) == {sim.pk}
    assert listed(client, Sim, "+923001234567") == {sim.pk}
    assert listed(client, Sim, "li.wei@EXAMPLE.com") == {sim.pk}
    assert listed(client, Sim, other.iccid[-6:]) == {other.pk}  # a part: the default search
    assert listed(client, Sim, "li.wei") == {sim.pk}
