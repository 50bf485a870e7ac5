"""A page query compiled once per process (``core.compiled``) and run as a prepared statement on
PostgreSQL (``core.prepared``): the ORM's rows, each owner's own, counted like any query."""

import ast
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.compiled import ScopedQuery
from orders.models import Sim
from orders.site.sims import own_sim_rows
from tests.factories import CustomerFactory, SimFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owners():
    now = timezone.now()
    first, second = CustomerFactory(), CustomerFactory()
    for days, status in [(3, Sim.Status.ACTIVE), (1, Sim.Status.REPLACED), (2, Sim.Status.ISSUED)]:
        SimFactory(owner=first, status=status, created_at=now - timedelta(days=days))
    SimFactory(owner=second)
    return first, second


def test_each_owner_gets_the_rows_the_orm_gives_from_one_compilation(owners, compilations):
    query = ScopedQuery(Sim, lambda owner_id: own_sim_rows(owner_id)[:10])
    answers = {owner.pk: query.rows(owner.pk) for owner in [*owners, owners[1]]}
    assert len(compilations) == 2  # the two probe scopes, once
    for owner in owners:
        assert answers[owner.pk] == list(own_sim_rows(owner.pk)[:10])
    assert [len(rows) for rows in answers.values()] == [3, 1]
    assert answers[owners[0].pk][-1][3] == Sim.Status.REPLACED  # the Case's constants kept
    assert all(row[6].tzinfo is not None for row in answers[owners[0].pk])  # converters ran


def test_a_query_the_scope_changes_otherwise_runs_through_the_orm(owners, compilations):
    query = ScopedQuery(Sim, lambda owner_id: own_sim_rows(owner_id)[: abs(owner_id)])
    answers = [query.rows(owner.pk) for owner in owners]
    assert len(compilations) == 4  # the probes, then each call
    assert answers == [list(own_sim_rows(owner.pk)[: owner.pk]) for owner in owners]
    dicts = ScopedQuery(Sim, lambda owner_id: Sim.objects.filter(owner_id=owner_id).values("iccid"))
    assert dicts.rows(owners[1].pk) == list(Sim.objects.filter(owner=owners[1]).values("iccid"))


def test_the_query_is_counted(owners, django_assert_num_queries):
    query = ScopedQuery(Sim, lambda owner_id: own_sim_rows(owner_id)[:10])
    with django_assert_num_queries(1) as captured:
        query.rows(owners[0].pk)
    logged = captured.captured_queries[0]["sql"]  # with its values, as every query is logged
    assert f'"owner_id" = {owners[0].pk}' in logged and "$1" not in logged


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.services
def test_postgresql_prepares_the_statement_once_it_repeats(owners):
    query = ScopedQuery(Sim, lambda owner_id: own_sim_rows(owner_id)[:10])
    for _ in range(3):
        for owner in owners:
            query.rows(owner.pk)
    assert len([s for s in prepared_statements() if '"orders_sim"."iccid"' in s]) == 1


@pytest.mark.parametrize(("switch", "threshold"), [(None, 5), ("0", None)])
def test_postgresql_binds_on_the_server_and_prepares_unless_turned_off(switch, threshold):
    env = {**os.environ, "DATABASE_URL": "postgres://portal@db.internal:5432/portal"}
    env.pop("DATABASE_PREPARED_STATEMENTS", None)
    if switch is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = switch
    printed = subprocess.run(
        [sys.executable, "-c", "from portal import settings; print(settings.DATABASES)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    ).stdout
    options = ast.literal_eval(printed)["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == threshold


def order_with_plan(pk: int):
    from orders.models import Order

    return (
        Order.objects.select_for_update(of=("self",)).select_related("plan__provider").filter(pk=pk)
    )


def test_rows_by_key_are_the_orm_s_instances_with_their_related_rows(compilations):
    from django.db import transaction

    from core.compiled import ScopedRows
    from orders.models import Order
    from tests.factories import OrderFactory

    orders = [OrderFactory(), OrderFactory()]
    rows = ScopedRows(Order, order_with_plan)
    compilations.clear()
    with transaction.atomic():
        found = [rows.get(order.pk) for order in orders]
    assert compilations == [Order, Order]  # the two probes, once
    for order, instance in zip(orders, found, strict=True):
        expected = Order.objects.select_related("plan__provider").get(pk=order.pk)
        assert instance.__dict__.keys() >= {"id", "status", "created_at"}
        assert {f.attname: getattr(instance, f.attname) for f in Order._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in Order._meta.concrete_fields
        }
        assert instance.plan == expected.plan and instance.plan.provider == expected.plan.provider
        assert not instance._state.adding and instance._state.db == "default"


def test_rows_by_key_read_the_related_rows_in_the_same_query(django_assert_num_queries):
    from django.db import transaction

    from core.compiled import ScopedRows
    from orders.models import Order
    from tests.factories import OrderFactory

    order = OrderFactory()
    rows = ScopedRows(Order, order_with_plan)
    with transaction.atomic():
        rows.get(order.pk)
        with django_assert_num_queries(1) as captured:
            found = rows.get(order.pk)
            assert found.plan.provider.name
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "orders_order"' in captured.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_rows_by_key_refuse_a_missing_row_and_a_lock_outside_a_transaction():
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from core.compiled import ScopedRows
    from orders.models import Order
    from tests.factories import OrderFactory

    rows = ScopedRows(Order, order_with_plan)
    with transaction.atomic(), pytest.raises(Order.DoesNotExist):
        rows.get(10**9)
    with pytest.raises(TransactionManagementError):
        rows.get(OrderFactory().pk)
    unlocked = ScopedRows(Order, lambda pk: Order.objects.filter(pk=pk))
    assert unlocked.all(10**9) == []


def test_a_scope_of_several_values_fills_each_of_its_places(owners, compilations):
    first, second = owners
    query = ScopedQuery(
        Sim,
        lambda owner_id, status: (
            Sim.objects.filter(owner_id=owner_id, status=status)
            .order_by("pk")
            .values_list("iccid", "status")
        ),
        probes=((-1, "probe-a"), (-2, "probe-b")),
    )
    compilations.clear()
    for owner in owners:
        for status in (Sim.Status.ACTIVE, Sim.Status.ISSUED, Sim.Status.REPLACED):
            expected = Sim.objects.filter(owner=owner, status=status).order_by("pk")
            assert query.rows(owner.pk, status) == list(expected.values_list("iccid", "status"))
    assert len(compilations) == 2 + 6  # the probes once; the expected rows through the ORM
    assert [status for _iccid, status in query.rows(first.pk, Sim.Status.ACTIVE)] == ["active"]
    assert query.rows(second.pk, Sim.Status.REPLACED) == []


def test_probes_the_query_does_not_hold_where_they_differ_leave_it_to_the_orm(owners):
    query = ScopedQuery(
        Sim,
        lambda owner_id, status: Sim.objects.filter(owner_id=owner_id).values_list("iccid"),
        probes=((-1, "probe-a"), (-2, "probe-b")),
    )
    assert query.compile("default") is not None  # the status is unused: only the owner varies
    mixed = ScopedQuery(
        Sim,
        lambda owner_id: Sim.objects.filter(owner_id=owner_id, status=str(owner_id)).values_list(
            "iccid"
        ),
    )
    assert mixed.compile("default") is None  # a value derived from the scope, not the scope
    assert mixed.rows(owners[0].pk) == []
