"""The order and SIM lists run a page's SQL compiled once per shape and read its times with
``fromisoformat``: the same answers as the ORM's page, each partner's own rows, filters and
cursors as before."""

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, connection
from django.utils import timezone

from core.api import pages
from core.api.pages import CompiledRows
from core.api.times import read_times_fast
from orders.api.orders import OrderListCreateView
from orders.api.sims import SimListView
from orders.models import Order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
SIMS = "/api/v1/sims/"


@pytest.fixture(autouse=True)
def no_kept_shapes():
    pages.forget()
    yield
    pages.forget()


def orders_of(partner, count: int, plan, *, start: int = 0) -> list[Order]:
    """``count`` orders of ``partner``, two at each minute (ties the cursor's offset breaks)."""
    now = timezone.now()
    orders = [
        Order.objects.create(
            partner=partner,
            kind=Order.Kind.PURCHASE,
            plan=plan,
            currency="PKR",
            subtotal=Decimal(n + 1),
            total=Decimal(n + 1),
            customer_reference=f"ref-{start + n}",
        )
        for n in range(count)
    ]
    for n, order in enumerate(orders):
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(minutes=n // 2))
    return orders


def walk(client, url: str, params: dict) -> list[dict]:
    """Every answer from the first page to the last and back again, through the links."""
    answers = [client.get(url, params).json()]
    while answers[-1]["next"]:
        answers.append(client.get(answers[-1]["next"]).json())
    while answers[-1]["previous"]:
        answers.append(client.get(answers[-1]["previous"]).json())
    return answers


@pytest.mark.parametrize(("view", "url"), [(OrderListCreateView, ORDERS), (SimListView, SIMS)])
def test_a_shape_is_compiled_once_and_answers_as_the_orm(
    api_client, api_partner, plan_by_sku, make_sims, compilations, monkeypatch, view, url
):
    orders_of(api_partner, 7, plan_by_sku("jazz-esim-week-10gb"))
    make_sims(7)
    api_client.get(url)  # the API key is cached from now on
    compilations.clear()
    kept = walk(api_client, url, {"page_size": 2})
    shapes = len(compilations)
    assert walk(api_client, url, {"page_size": 2}) == kept
    assert len(compilations) == shapes  # every page of the second walk ran kept SQL
    assert shapes < len(kept)
    monkeypatch.setattr(view, "compiled_pages", False)
    assert walk(api_client, url, {"page_size": 2}) == kept
    assert len({row_key(row) for answer in kept for row in answer["results"]}) == 7


def row_key(row: dict) -> str:
    return row.get("number") or row["iccid"]


def test_kept_sql_reads_each_partner_their_own_rows(
    api_client, other_partner_client, api_partner, other_partner, plan_by_sku
):
    plan = plan_by_sku("jazz-esim-week-10gb")
    mine = orders_of(api_partner, 3, plan)
    theirs = orders_of(other_partner, 2, plan, start=10)
    assert {row["number"] for row in api_client.get(ORDERS).json()["results"]} == {
        order.number for order in mine
    }
    assert {row["number"] for row in other_partner_client.get(ORDERS).json()["results"]} == {
        order.number for order in theirs
    }


def test_a_filter_is_applied_after_the_unfiltered_shape_was_kept(
    api_client, api_partner, plan_by_sku
):
    orders = orders_of(api_partner, 4, plan_by_sku("jazz-esim-week-10gb"))
    Order.objects.filter(pk=orders[1].pk).update(status=Order.Status.PAID)
    assert len(api_client.get(ORDERS).json()["results"]) == 4
    answer = api_client.get(ORDERS, {"status": "paid"}).json()
    assert [row["number"] for row in answer["results"]] == [orders[1].number]
    answer = api_client.get(ORDERS, {"customer_reference": "ref-3"}).json()
    assert [row["number"] for row in answer["results"]] == [orders[3].number]


def test_a_cursor_the_field_refuses_answers_as_without_compiled_pages(api_client, monkeypatch):
    cursor = base64.b64encode(b"p=not-a-time").decode()
    kept = api_client.get(ORDERS, {"cursor": cursor})
    monkeypatch.setattr(OrderListCreateView, "compiled_pages", False)
    orm = api_client.get(ORDERS, {"cursor": cursor})
    assert kept.status_code == orm.status_code == 404
    assert kept.content == orm.content


def test_a_shape_with_a_parameter_of_its_own_is_compiled_every_time(
    api_partner, plan_by_sku, compilations
):
    orders = orders_of(api_partner, 3, plan_by_sku("jazz-esim-week-10gb"))
    compilations.clear()

    def rows():
        build = lambda: Order.objects.filter(  # noqa: E731
            partner=api_partner.pk, total__gte=Decimal("2")
        ).values("number")
        page = CompiledRows("test", Order, api_partner.pk, build).order_by("-created_at", "-id")
        return [row["number"] for row in page[0:10]]

    assert rows() == rows() == [orders[1].number, orders[2].number]
    assert len(compilations) == 2


TIMES = [
    "2026-12-02 11:41:53.12+00",
    "2026-12-02 11:41:53+00",
    "2026-12-02 11:41:53.000001+00",
    "2026-03-29 01:30:00+05:30",
    "1900-01-01 00:00:00+04:28:12",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def read(sql: str, params, fast: bool):
    with connection.cursor() as cursor:
        if fast:
            read_times_fast(cursor, connection)
        cursor.execute(sql, params)
        return cursor.fetchone()


@pytest.mark.services
def test_times_read_fast_are_the_ones_django_reads():
    sql = "SELECT " + ", ".join(["%s::timestamptz"] * len(TIMES))
    fast, django = read(sql, TIMES, fast=True), read(sql, TIMES, fast=False)
    assert fast == django
    assert [(t.isoformat(), t.tzinfo) for t in fast] == [(t.isoformat(), t.tzinfo) for t in django]


@pytest.mark.services
@pytest.mark.parametrize("text", ["infinity", "-infinity", "2026-12-02 11:41:53+00 BC"])
def test_a_time_python_cannot_hold_fails_as_before(text):
    with pytest.raises(DataError) as fast:
        read("SELECT %s::timestamptz", [text], fast=True)
    with pytest.raises(DataError) as django:
        read("SELECT %s::timestamptz", [text], fast=False)
    assert str(fast.value) == str(django.value)
