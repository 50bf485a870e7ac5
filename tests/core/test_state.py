"""The transition maps: every (from, to) pair of every stateful model."""

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import IdentityCheck
from core.audit import entries_for
from core.models import AuditEntry
from core.state import IllegalTransition, TransitionMap, transition
from orders.models import Order, Payment, ProvisioningAttempt, Refund, ReplacementTicket, Sim
from tests.factories import (
    IdentityCheckFactory,
    OrderFactory,
    PaymentFactory,
    ProvisioningAttemptFactory,
    RefundFactory,
    ReplacementTicketFactory,
    SimFactory,
)

# Each stateful model, the factory that builds one, and the field its map governs.
STATEFUL = {
    Order: (OrderFactory, "status"),
    Payment: (PaymentFactory, "status"),
    Refund: (RefundFactory, "status"),
    Sim: (SimFactory, "status"),
    ProvisioningAttempt: (ProvisioningAttemptFactory, "outcome"),
    ReplacementTicket: (ReplacementTicketFactory, "status"),
    IdentityCheck: (IdentityCheckFactory, "status"),
}


def states(model) -> list[str]:
    _factory, field = STATEFUL[model]
    return [value for value, _label in model._meta.get_field(field).choices]


def every_pair():
    for model in STATEFUL:
        for current in states(model):
            for target in states(model):
                yield pytest.param(
                    model, current, target, id=f"{model.__name__}:{current}->{target}"
                )


def test_every_model_with_a_transition_map_is_covered():
    with_maps = {model for model in apps.get_models() if hasattr(model, "TRANSITIONS")}

    assert with_maps == set(STATEFUL)


@pytest.mark.parametrize("model", list(STATEFUL), ids=lambda m: m.__name__)
def test_map_covers_exactly_the_field_choices(model):
    assert list(model.TRANSITIONS.choices.values) == states(model)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "current", "target"), list(every_pair()))
def test_transition(model, current, target):
    factory, field = STATEFUL[model]
    instance = factory()
    model.objects.filter(pk=instance.pk).update(**{field: current})
    instance.refresh_from_db()
    audit_count = AuditEntry.objects.count()

    if current == target:
        assert transition(instance, target, field=field) is False
        assert getattr(model.objects.get(pk=instance.pk), field) == current
        assert AuditEntry.objects.count() == audit_count

    elif model.TRANSITIONS.allows(current, target):
        assert transition(instance, target, field=field, note="test") is True
        assert getattr(model.objects.get(pk=instance.pk), field) == target
        assert getattr(instance, field) == target
        assert AuditEntry.objects.count() == audit_count + 1
        entry = entries_for(instance).get()
        assert entry.action == f"{model._meta.model_name}.{field}"
        assert entry.before == {field: current}
        assert entry.after == {field: target}
        assert entry.note == "test"

    else:
        with pytest.raises(IllegalTransition) as excinfo:
            transition(instance, target, field=field)
        assert (excinfo.value.current, excinfo.value.target) == (current, target)
        assert getattr(model.objects.get(pk=instance.pk), field) == current
        assert AuditEntry.objects.count() == audit_count


@pytest.mark.django_db
def test_transition_refreshes_a_stale_instance():
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    assert order.status == Order.Status.CREATED  # the in-memory copy is stale

    # The map is checked against the locked row, not the stale instance: paid -> paid is a no-op.
    assert transition(order, Order.Status.PAID) is False
    assert order.status == Order.Status.PAID
    # created -> cancelled would be legal, but the row is paid: refused.
    with pytest.raises(IllegalTransition):
        transition(order, Order.Status.CANCELLED)


@pytest.mark.django_db
def test_changes_are_saved_with_the_state():
    order = OrderFactory()
    paid_at = timezone.now().replace(microsecond=0)

    transition(
        order, Order.Status.PAID, changes={"paid_at": paid_at, "customer_reference": "ref-1"}
    )

    stored = Order.objects.get(pk=order.pk)
    assert stored.status == Order.Status.PAID
    assert stored.paid_at == paid_at
    assert stored.customer_reference == "ref-1"
    assert order.paid_at == paid_at


@pytest.mark.django_db
def test_changes_are_not_saved_when_the_move_is_refused():
    order = OrderFactory()

    with pytest.raises(IllegalTransition):
        transition(order, Order.Status.FULFILLED, changes={"customer_reference": "nope"})

    assert Order.objects.get(pk=order.pk).customer_reference == ""


@pytest.mark.django_db
def test_audit_entry_records_the_actor():
    check = IdentityCheckFactory()
    reviewer = check.customer

    transition(check, IdentityCheck.Status.APPROVED, actor=reviewer, actor_label="staff")

    entry = entries_for(check).get()
    assert entry.actor == reviewer
    assert entry.actor_label == "staff"


@pytest.mark.parametrize(
    "moves",
    [
        pytest.param({"created": {"shipped"}}, id="unknown-target"),
        pytest.param({"shipped": {"created"}}, id="unknown-source"),
        pytest.param({"CREATED": {"paid"}}, id="label-case"),
    ],
)
def test_transition_map_rejects_unknown_states(moves):
    with pytest.raises(ValueError, match="Unknown states"):
        TransitionMap(Order.Status, moves)


def test_transition_map_accepts_known_states():
    transitions = TransitionMap(Order.Status, {"created": {"paid"}})

    assert transitions.allows("created", "paid")
    assert not transitions.allows("paid", "created")
    assert transitions.targets("created") == {"paid"}
    assert transitions.targets("paid") == frozenset()


@pytest.mark.parametrize(
    ("model", "current", "target"),
    [
        (Order, "fulfilled", "created"),
        (Order, "refunded", "paid"),
        (Order, "cancelled", "paid"),
        (Order, "created", "fulfilled"),
        (Order, "awaiting_payment", "provisioning"),
        (Payment, "refunded", "succeeded"),
        (Order, "awaiting_payment", "refunded"),  # a refund needs the money recorded first
        (Payment, "succeeded", "cancelled"),
        (Refund, "succeeded", "pending"),
        (Sim, "replaced", "active"),
        (Sim, "cancelled", "active"),
        (ProvisioningAttempt, "succeeded", "in_progress"),
        (ReplacementTicket, "rejected", "approved"),
        (ReplacementTicket, "issued", "submitted"),
        (IdentityCheck, "rejected", "approved"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_moves_that_must_never_be_allowed(model, current, target):
    assert not model.TRANSITIONS.allows(current, target)


def test_order_final_states_are_cancelled_and_refunded():
    final = {state for state in Order.Status.values if Order.TRANSITIONS.is_final(state)}

    assert final == {Order.Status.CANCELLED, Order.Status.REFUNDED}


@pytest.mark.django_db
def test_a_row_created_in_its_target_state_is_audited_as_the_move():
    from django.db import transaction

    from core.state import moved_on_creation

    moved = OrderFactory(status=Order.Status.CREATED)
    written = OrderFactory(status=Order.Status.PAID)
    with transaction.atomic():
        transition(moved, Order.Status.PAID, actor_label="payments", held=True)
        moved_on_creation(written, Order.Status.CREATED, Order.Status.PAID, actor_label="payments")
    fields = ("action", "actor_label", "before", "after", "note")
    [by_move] = entries_for(moved).values(*fields)
    assert list(entries_for(written).values(*fields)) == [by_move]
    with pytest.raises(IllegalTransition):  # a move the map refuses
        moved_on_creation(written, Order.Status.FULFILLED, Order.Status.PAID)
    with pytest.raises(IllegalTransition):  # a row not written in the target state
        moved_on_creation(written, Order.Status.CREATED, Order.Status.CANCELLED)


@pytest.mark.django_db
def test_a_move_fenced_by_its_source_state_happens_once_and_is_audited_as_a_move(
    django_assert_num_queries,
):
    from core.state import transition_if

    moved, stale = OrderFactory(status=Order.Status.PAID), OrderFactory(status=Order.Status.PAID)
    Order.objects.filter(pk=stale.pk).update(status=Order.Status.CANCELLED)  # stale in memory
    due = timezone.now()
    before = moved.updated_at
    ContentType.objects.get_for_model(Order)  # cached by the process, as in a worker
    with django_assert_num_queries(2):  # the conditional UPDATE and the audit entry: no read
        assert transition_if(
            moved,
            Order.Status.PAID,
            Order.Status.PROVISIONING,
            actor_label="worker",
            changes={"next_attempt_at": due},
        )
    stored = Order.objects.get(pk=moved.pk)
    assert (stored.status, stored.next_attempt_at) == (Order.Status.PROVISIONING, due)
    assert stored.updated_at == moved.updated_at > before  # auto_now set, as save() sets it
    assert moved.status == Order.Status.PROVISIONING
    by_move = OrderFactory(status=Order.Status.PAID)
    transition(by_move, Order.Status.PROVISIONING, actor_label="worker")
    fields = ("action", "actor_label", "before", "after")
    assert list(entries_for(moved).values(*fields)) == list(entries_for(by_move).values(*fields))
    assert not transition_if(moved, Order.Status.PAID, Order.Status.PROVISIONING)  # moved once
    assert not transition_if(stale, Order.Status.PAID, Order.Status.PROVISIONING)
    assert Order.objects.get(pk=stale.pk).status == Order.Status.CANCELLED
    assert stale.status == Order.Status.PAID and not entries_for(stale).exists()
    with pytest.raises(IllegalTransition):  # a move the map refuses, whatever the row holds
        transition_if(stale, Order.Status.CANCELLED, Order.Status.PAID)
