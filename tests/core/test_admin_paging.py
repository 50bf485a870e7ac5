"""The big tables' paginator: the planner's estimate on PostgreSQL, a capped count otherwise."""

import pytest
from django.db import connection
from django.urls import reverse

from core.admin import paging as admin_paging
from core.admin.paging import EstimatedCountPaginator, ShownCount, about, at_least
from orders.models import Order
from tests.factories import OrderFactory, UserFactory

NEWEST_FIRST = ["-created_at", "-id"]


def add_orders(count: int, **fields) -> None:
    template = OrderFactory.build(**fields)
    Order.objects.bulk_create(
        Order(
            kind=template.kind,
            status=template.status,
            customer=template.customer,
            plan=template.plan,
            currency=template.currency,
            subtotal=template.subtotal,
            total=template.total,
        )
        for _ in range(count)
    )


@pytest.fixture
def orders(db):
    customer = UserFactory()
    order = OrderFactory(customer=customer)
    add_orders(6, customer=customer, plan=order.plan)  # 7 in all


@pytest.fixture
def cap_at_5(monkeypatch):
    monkeypatch.setattr(admin_paging, "COUNT_CAP", 5)


def test_inexact_counts_are_shown_as_such():
    assert (about(1_234_567), str(about(1_234_567))) == (1_234_567, "~1,230,000")
    assert str(about(999)) == "~999"
    assert (at_least(10_000), str(at_least(10_000))) == (10_001, "10,000+")


def test_a_filtered_list_counts_up_to_the_cap(orders, cap_at_5):
    paginator = EstimatedCountPaginator(Order.objects.filter(kind="purchase"), 2)
    assert paginator.count == 6 and str(paginator.count) == "5+"
    assert paginator.num_pages == 3 and len(paginator.page(3).object_list) == 2


def test_under_the_cap_the_count_is_exact(orders):
    paginator = EstimatedCountPaginator(Order.objects.filter(kind="purchase"), 2)
    assert paginator.count == 7 and type(paginator.count) is int


def test_without_an_estimate_the_whole_table_is_counted_up_to_the_cap(
    orders, cap_at_5, monkeypatch
):
    monkeypatch.setattr(admin_paging, "table_estimate", lambda model, using: None)  # as on SQLite
    paginator = EstimatedCountPaginator(Order.objects.order_by(*NEWEST_FIRST), 2)
    assert str(paginator.count) == "5+"


def test_the_list_shows_the_capped_count(client, orders, cap_at_5, signed_in_superuser):
    response = client.get(reverse("admin:orders_order_changelist"), {"kind__exact": "purchase"})
    assert response.status_code == 200
    assert "5+ orders" in response.content.decode()


@pytest.mark.services
def test_the_whole_table_on_postgresql_shows_the_planner_estimate(orders, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Order._meta.db_table}")
    whole_table = Order.objects.select_related("customer").order_by(*NEWEST_FIRST)

    monkeypatch.setattr(admin_paging, "ESTIMATE_FROM", 5)
    estimated = EstimatedCountPaginator(whole_table, 2).count
    assert isinstance(estimated, ShownCount) and str(estimated) == "~7" and estimated == 7

    monkeypatch.setattr(admin_paging, "ESTIMATE_FROM", 100)
    small = EstimatedCountPaginator(whole_table, 2).count
    assert small == 7 and type(small) is int  # a small table is counted exactly

    monkeypatch.setattr(admin_paging, "ESTIMATE_FROM", 5)
    filtered = EstimatedCountPaginator(whole_table.filter(kind="renewal"), 2).count
    assert filtered == 0 and type(filtered) is int
