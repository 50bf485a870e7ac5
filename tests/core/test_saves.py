"""``save()`` with its INSERT and UPDATE compiled once per shape (``core.saves``): the rows and
instances Django's own path gives, each statement counted, expressions and signals kept."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.db.models import F
from django.db.models.signals import post_save
from django.db.models.sql.compiler import SQLInsertCompiler, SQLUpdateCompiler
from django.forms.models import model_to_dict
from django.utils import timezone

from core import saves
from core.models import AuditEntry
from core.saves import CompiledSaves, update_if
from orders.models import Order
from tests.factories import OrderFactory, PartnerFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiled(monkeypatch):
    """The INSERTs and UPDATEs Django compiles, by model (none compiled before the test)."""
    monkeypatch.setattr(saves, "_statements", {})
    counted = []
    for compiler in (SQLInsertCompiler, SQLUpdateCompiler):
        original = compiler.as_sql

        def counting(self, *args, _original=original, **kwargs):
            counted.append((type(self).__name__, self.query.model))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(compiler, "as_sql", counting)
    return counted


def fresh_order(plan, partner, reference: str) -> Order:
    return OrderFactory.build(
        plan=plan, partner=partner, customer=None, customer_reference=reference
    )


def test_the_models_on_the_order_path_save_through_it():
    from orders.models import Payment, ProvisioningAttempt, Sim, WalletEntry
    from plans.models import SandboxOrder
    from portal.models import IdempotencyRecord

    for model in (Order, Payment, WalletEntry, Sim, ProvisioningAttempt, AuditEntry):
        assert issubclass(model, CompiledSaves), model
    assert issubclass(SandboxOrder, CompiledSaves) and issubclass(IdempotencyRecord, CompiledSaves)


def test_inserts_compile_once_and_write_what_the_instance_holds(compiled):
    plan, partner = PlanFactory(), PartnerFactory()
    compiled.clear()
    orders = [fresh_order(plan, partner, f"ref-{i}") for i in range(3)]
    for order in orders:
        order.save()
    assert [entry for entry in compiled if entry[1] is Order] == [("SQLInsertCompiler", Order)]
    for order in orders:
        stored = Order.objects.get(pk=order.pk)
        assert model_to_dict(stored) == model_to_dict(order)
        assert stored.created_at == order.created_at  # auto_now_add: the value written is kept
        assert stored.number == order.number and not order._state.adding


def test_updates_compile_once_per_set_of_fields_and_refuse_a_missing_row(compiled):
    first, second = OrderFactory(), OrderFactory()
    compiled.clear()
    for order, reference in ((first, "a"), (second, "b")):
        order.customer_reference = reference
        order.save(update_fields=["customer_reference", "updated_at"])
    assert compiled == [("SQLUpdateCompiler", Order)]
    assert Order.objects.get(pk=second.pk).customer_reference == "b"
    assert Order.objects.get(pk=second.pk).updated_at == second.updated_at
    Order.objects.filter(pk=first.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        first.save(update_fields=["customer_reference"])


def test_a_none_written_as_null_is_its_own_shape_compiled_once(compiled):
    """Django's compiler writes a None as ``NULL`` rather than a parameter: an update setting a
    field to None is compiled once for that shape, not handed to Django every time."""
    orders = [OrderFactory(next_attempt_at=timezone.now()) for _ in range(3)]
    compiled.clear()
    for order in orders:
        order.next_attempt_at = None
        order.save(update_fields=["next_attempt_at", "updated_at"])
    orders[0].next_attempt_at = timezone.now()
    orders[0].save(update_fields=["next_attempt_at", "updated_at"])
    assert compiled == [("SQLUpdateCompiler", Order)] * 2
    assert [Order.objects.get(pk=o.pk).next_attempt_at is None for o in orders] == [
        False,
        True,
        True,
    ]


def test_an_expression_goes_through_django(compiled):
    order = OrderFactory(quantity=2)
    order.quantity = F("quantity") + 1
    order.save(update_fields=["quantity"])
    order.refresh_from_db()
    assert order.quantity == 3


def test_json_values_and_signals_are_kept():
    order = OrderFactory()
    saved = []

    def keep(sender, instance, created, **kwargs):
        saved.append((instance.pk, created))

    post_save.connect(keep, sender=AuditEntry, weak=False)
    try:
        entries = [
            AuditEntry(
                action="test.json",
                target_type=ContentType.objects.get_for_model(order),
                target_id=str(order.pk),
                target_repr=str(order),
                after={"total": str(n), "nested": {"list": [n, "文"]}},
            )
            for n in range(2)
        ]
        for entry in entries:
            entry.save()
    finally:
        post_save.disconnect(keep, sender=AuditEntry)
    assert saved == [(entry.pk, True) for entry in entries]
    assert [AuditEntry.objects.get(pk=e.pk).after for e in entries] == [e.after for e in entries]


def test_the_statements_are_counted(django_assert_num_queries):
    plan, partner = PlanFactory(), PartnerFactory()
    fresh_order(plan, partner, "warm").save()
    order = fresh_order(plan, partner, "counted")
    with django_assert_num_queries(2) as captured:
        order.save()
        order.status = Order.Status.PAID
        order.save(update_fields=["status"])
    inserted, updated = (query["sql"] for query in captured.captured_queries)
    assert inserted.startswith('INSERT INTO "orders_order"') and "counted" in inserted
    assert updated.startswith('UPDATE "orders_order" SET "status"')


def audit_entries(order, count: int) -> list[AuditEntry]:
    target_type = ContentType.objects.get_for_model(order)
    return [
        AuditEntry(
            action=f"test.batch.{n}",
            target_type=target_type,
            target_id=str(order.pk),
            target_repr=str(order),
            after={"n": n},
        )
        for n in range(count)
    ]


def test_insert_all_writes_every_row_and_gives_each_its_id(compiled):
    order = OrderFactory()
    compiled.clear()
    batches = [audit_entries(order, count) for count in (2, 3, 1, 4)]
    for batch in batches:
        AuditEntry.insert_all(batch)
    entries = [entry for batch in batches for entry in batch]
    stored = {e.pk: e for e in AuditEntry.objects.filter(action__startswith="test.batch.")}
    assert len(stored) == len(entries) == 10
    for entry in entries:
        assert not entry._state.adding
        assert (stored[entry.pk].action, stored[entry.pk].after) == (entry.action, entry.after)
        assert stored[entry.pk].created_at == entry.created_at
    inserts = [entry for entry in compiled if entry[1] is AuditEntry]
    if connection.vendor == "postgresql":  # one UNNEST for any number of rows; one row: save()
        assert inserts == [("SQLInsertCompiler", AuditEntry)] * 2
    else:
        assert len(inserts) == 4  # bulk_create, each time


def test_update_if_writes_only_a_row_that_matches_its_fence(compiled):
    """``update_if``: a conditional UPDATE of one row, compiled once per shape (which fence and
    set values are None included); a row that no longer matches is left as it is."""
    moment = timezone.now()
    orders = [OrderFactory(next_attempt_at=moment, customer_reference=f"r{i}") for i in range(3)]
    compiled.clear()
    fence = {"next_attempt_at": moment, "customer_reference": "r0"}
    assert update_if(Order, orders[0].pk, where=fence, values={"customer_reference": "done"})
    assert not update_if(Order, orders[0].pk, where=fence, values={"customer_reference": "again"})
    fence = {"next_attempt_at": moment, "customer_reference": "r1"}
    assert update_if(Order, orders[1].pk, where=fence, values={"next_attempt_at": None})
    assert update_if(
        Order, orders[1].pk, where={"next_attempt_at": None}, values={"customer_reference": "null"}
    )
    assert not update_if(
        Order, orders[2].pk, where={"next_attempt_at": None}, values={"customer_reference": "x"}
    )
    stored = {o.pk: o for o in Order.objects.filter(pk__in=[o.pk for o in orders])}
    assert [stored[o.pk].customer_reference for o in orders] == ["done", "null", "r2"]
    assert [stored[o.pk].next_attempt_at for o in orders] == [moment, None, moment]
    assert compiled == [("SQLUpdateCompiler", Order)] * 3  # three shapes, each compiled once


def test_update_if_with_an_expression_goes_through_django(compiled):
    order = OrderFactory(quantity=2)
    assert update_if(Order, order.pk, where={"quantity": 2}, values={"quantity": F("quantity") + 1})
    assert not update_if(Order, order.pk, where={"quantity": 2}, values={"quantity": 9})
    order.refresh_from_db()
    assert order.quantity == 3


def test_update_if_keeps_the_sql_for_a_value_bound_through_an_adapter(compiled):
    """A binary value reaches the driver wrapped (compared by identity): compiled once still."""
    from portal.models import IdempotencyRecord
    from tests.factories import IdempotencyRecordFactory

    records = IdempotencyRecordFactory.create_batch(3)
    compiled.clear()
    for number, record in enumerate(records):
        body = f'{{"n": {number}}}'.encode()
        assert update_if(
            IdempotencyRecord,
            record.pk,
            where={"completed": False},
            values={"completed": True, "response_body": body},
        )
    assert compiled == [("SQLUpdateCompiler", IdempotencyRecord)]
    stored = IdempotencyRecord.objects.get(pk=records[2].pk)
    assert stored.completed and bytes(stored.response_body) == b'{"n": 2}'


def test_insert_new_skips_a_row_whose_unique_value_is_taken_without_reading_first(
    compiled, django_assert_num_queries
):
    from django.core.exceptions import ValidationError

    from orders.models import Sim
    from tests.factories import SimFactory

    taken = SimFactory()
    compiled.clear()
    fresh = [SimFactory.build(operator=taken.operator) for _ in range(3)]
    twin = SimFactory.build(operator=taken.operator, iccid=taken.iccid, msisdn="")
    with django_assert_num_queries(2):
        Sim.insert_new([fresh[0]])
        Sim.insert_new([twin])  # the same shape: taken, skipped
    Sim.insert_new([fresh[1], fresh[2], twin])
    stored = Sim.objects.filter(iccid__in=[sim.iccid for sim in fresh]).count()
    assert stored == 3 and Sim.objects.filter(iccid=taken.iccid).get() == taken
    sims = [entry for entry in compiled if entry[1] is Sim]
    assert sims == [("SQLInsertCompiler", Sim)] * 2  # one row, then three: each compiled once
    with pytest.raises(ValidationError):  # Sim's own checks, as save() makes them
        Sim.insert_new([SimFactory.build(operator=taken.operator, iccid="123")])
