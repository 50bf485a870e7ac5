"""Explicit state machines for stateful models (ARCHITECTURE.md, rule 1).

A model declares its states as ``TextChoices`` and its legal moves as a :class:`TransitionMap`.
:func:`transition` is the way a status changes: it locks the row, re-reads it, does nothing if the
row is already in the target state, refuses illegal moves and writes an audit entry.
:func:`transition_if` makes a move from one given state in a single conditional write (nothing
if the row is no longer in it), with the same checks and audit entry.
"""

from collections.abc import Iterable, Mapping

from django.db import models, transaction
from django.utils import timezone

from core import audit
from core.saves import update_if


class IllegalTransition(Exception):
    """A status change the model's transition map does not allow."""

    def __init__(self, model_name: str, current: str, target: str):
        super().__init__(f"{model_name} cannot go from {current!r} to {target!r}.")
        self.current = current
        self.target = target


class TransitionMap:
    """The legal moves between the values of a ``TextChoices`` enumeration."""

    def __init__(self, choices: type[models.TextChoices], moves: Mapping[str, Iterable[str]]):
        self.choices = choices
        self.moves = {source: frozenset(targets) for source, targets in moves.items()}
        known = set(choices.values)
        named = set(self.moves) | {t for targets in self.moves.values() for t in targets}
        if named - known:
            raise ValueError(f"Unknown states in transition map: {sorted(named - known)}")

    def allows(self, current: str, target: str) -> bool:
        """True if ``current`` may move to ``target``."""
        return target in self.moves.get(current, ())

    def targets(self, current: str) -> frozenset[str]:
        """Every state reachable from ``current`` in one move."""
        return self.moves.get(current, frozenset())

    def is_final(self, state: str) -> bool:
        """True for states with no way out."""
        return not self.moves.get(state)


def transition(
    instance: models.Model,
    target: str,
    *,
    actor=None,
    actor_label: str = "",
    note: str = "",
    changes: Mapping | None = None,
    field: str = "status",
    held: bool = False,
) -> bool:
    """Move ``instance`` to ``target`` under a row lock; returns False if it was already there.

    ``changes`` are other field values written in the same save (e.g. ``paid_at``). The instance
    passed in is refreshed with the locked row's values. ``held``: the caller's transaction
    already holds the row (locked it, or created it) and ``instance`` is that row as read then:
    it is changed in place, without reading it again.
    """
    if held:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("A row held by the caller needs the caller's transaction.")
        return _move(instance, target, actor, actor_label, note, changes, field)
    with transaction.atomic():
        locked = type(instance).objects.select_for_update().get(pk=instance.pk)
        moved = _move(locked, target, actor, actor_label, note, changes, field)
    _copy_fields(locked, instance)
    return moved


def _move(locked, target, actor, actor_label, note, changes, field) -> bool:
    """The move itself, on ``locked``: the row as read under the caller's lock."""
    model = type(locked)
    transitions: TransitionMap = model.TRANSITIONS
    current = getattr(locked, field)
    if current == target:
        return False
    if not transitions.allows(current, target):
        raise IllegalTransition(model.__name__, current, target)
    setattr(locked, field, target)
    for name, value in (changes or {}).items():
        setattr(locked, name, value)
    update_fields = [field, *(changes or {})]
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        update_fields.append("updated_at")
    locked.save(update_fields=update_fields)
    _record(locked, current, target, actor, actor_label, note, field)
    return True


def transition_if(
    instance: models.Model,
    source: str,
    target: str,
    *,
    actor=None,
    actor_label: str = "",
    note: str = "",
    changes: Mapping | None = None,
    field: str = "status",
) -> bool:
    """Move ``instance``'s row from ``source`` to ``target`` if it is in ``source`` now; returns
    whether it moved. One conditional ``UPDATE``, without reading or locking the row first: the
    state it must be in is the write's fence (for a row whose every change happens under a lock
    the caller holds, or that needs no more). Checked against the model's map and audited as
    :func:`transition` does; ``instance`` gets the values written."""
    model = type(instance)
    if not model.TRANSITIONS.allows(source, target):
        raise IllegalTransition(model.__name__, source, target)
    values = {field: target, **(changes or {})}
    for auto in model._meta.concrete_fields:
        if isinstance(auto, models.DateTimeField) and auto.auto_now:  # as save() would set it
            values[auto.name] = timezone.now()
    if not update_if(model, instance.pk, where={field: source}, values=values):
        return False
    for name, value in values.items():
        setattr(instance, name, value)
    _record(instance, source, target, actor, actor_label, note, field)
    return True


def moved_on_creation(
    instance: models.Model,
    source: str,
    target: str,
    *,
    actor=None,
    actor_label: str = "",
    note: str = "",
    field: str = "status",
) -> None:
    """Record a row its creator wrote straight in ``target`` as the move from ``source`` (the
    state it is created in otherwise), in the caller's transaction: checked against the model's
    map and audited as :func:`transition` audits a move, without a second write of the row."""
    model = type(instance)
    if getattr(instance, field) != target or not model.TRANSITIONS.allows(source, target):
        raise IllegalTransition(model.__name__, source, target)
    _record(instance, source, target, actor, actor_label, note, field)


def _record(instance, current, target, actor, actor_label, note, field) -> None:
    audit.record(
        action=f"{type(instance)._meta.model_name}.{field}",
        target=instance,
        actor=actor,
        actor_label=actor_label,
        before={field: current},
        after={field: target},
        note=note,
    )


def _copy_fields(source: models.Model, destination: models.Model) -> None:
    for model_field in source._meta.concrete_fields:
        setattr(destination, model_field.attname, getattr(source, model_field.attname))
