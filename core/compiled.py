"""A page's query that differs between requests only by who asks: compiled once per process.

Compiling a list's queryset (its joins, its ordering expressions) costs Django more than
PostgreSQL takes to run it (My SIMs: 1.5 ms against 0.3 ms). :class:`ScopedQuery` builds the
queryset for two scopes that cannot exist (ids -1 and -2, or the ``probes`` given for a scope of
several values) and compares their SQL: the same text, parameters equal but for the positions
holding the scope's values. It keeps that text and the other
parameters (the query's constants) and runs it for each request's scope (PostgreSQL prepares it
as it prepares every repeated statement, see ``DATABASE_PREPARED_STATEMENTS``), its rows
converted by the compiler's converters as ``values_list()`` would. A queryset whose two
compilations differ otherwise is run through the ORM every time.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.transaction import TransactionManagementError

from core.api.times import read_times_fast

# Scopes no row has: only their positions differ between the two compilations.
PROBES = ((-1,), (-2,))


UNCOMPILED = object()


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple  # the constants, the scope's positions holding None
    slots: tuple[tuple[int, int], ...]  # (parameter, the scope's value that goes there)
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)
    width: int


@dataclass(frozen=True)
class CompiledInstances(Compiled):
    own_columns: tuple[int, int]  # the model's own columns in a row
    init_list: tuple[str, ...]  # their attribute names, for ``from_db``
    related: tuple  # the ORM's populators of the ``select_related`` rows
    locks: bool
    db: str


class ScopedQuery:
    """The ``values_list()`` rows of ``build(scope)`` (a queryset of ``model``), compiled once
    per database. ``build`` must depend on the scope alone: a value it reads from anywhere else
    (the clock, settings, the request) would be kept as a constant from the first call."""

    def __init__(self, model, build: Callable[..., QuerySet], probes=PROBES):
        self.model, self.build, self.probes = model, build, probes
        self._compiled: dict[str, Compiled | None] = {}
        self._lock = threading.Lock()

    def rows(self, *scope) -> list[tuple]:
        """The rows for ``scope``: one query, the SQL compiled on the first call only."""
        db = router.db_for_read(self.model)
        if db not in self._compiled:
            with self._lock:
                self._compiled[db] = self.compile(db)
        compiled = self._compiled[db]
        if compiled is None:
            return list(self.build(*scope))
        connection = connections[db]
        params = scoped_params(compiled, scope)
        width, converters = compiled.width, compiled.converters
        return [
            tuple(row)
            for row in fetch_converted(connection, compiled.sql, params, width, converters)
        ]

    def compile(self, db: str) -> Compiled | None:
        """The SQL both probe scopes share, or None when the scope is not all that differs."""
        probed = probe(self.build, self.probes, db)
        if probed is None or probed[0]._iterable_class is not ValuesListIterable:
            return None
        _queryset, compiler, sql, params, slots = probed
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None
        return Compiled(
            sql=sql,
            params=params,
            slots=slots,
            converters=converters_of(compiler, fields),
            width=compiler.col_count,
        )


class ScopedRows:
    """The model instances of ``build(scope)`` (a queryset of ``model``, with its
    ``select_related`` and ``select_for_update``), compiled once per database like
    :class:`ScopedQuery`: for the rows a hot path reads or locks by key, where compiling the
    joins costs more than running them. Built as the ORM builds them (``from_db``, the related
    rows attached), counted like any query."""

    def __init__(self, model, build: Callable[..., QuerySet], probes=PROBES):
        self.model, self.build, self.probes = model, build, probes
        self._compiled: CompiledInstances | object | None = UNCOMPILED
        self._lock = threading.Lock()

    def get(self, *scope):
        """The one instance for ``scope``; the model's ``DoesNotExist`` when there is none."""
        found = self.all(*scope)
        if not found:
            raise self.model.DoesNotExist(f"No {self.model.__name__} for {scope}.")
        return found[0]

    def all(self, *scope) -> list:
        """The instances for ``scope``: one query, the SQL compiled on the first call only."""
        if self._compiled is UNCOMPILED:
            with self._lock:
                self._compiled = self.compile(self.build(*self.probes[0]).db)
        compiled = self._compiled
        if compiled is None:
            return list(self.build(*scope))
        db = compiled.db
        connection = connections[db]
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = scoped_params(compiled, scope)
        rows = fetch_converted(
            connection, compiled.sql, params, compiled.width, compiled.converters
        )
        start, end = compiled.own_columns
        instances = []
        for row in rows:
            instance = self.model.from_db(db, compiled.init_list, row[start:end])
            for populator in compiled.related:
                populator.populate(row, instance)
            instances.append(instance)
        return instances

    def compile(self, db: str) -> CompiledInstances | None:
        probed = probe(self.build, self.probes, db)
        if probed is None:
            return None
        queryset, compiler, sql, params, slots = probed
        plain = queryset._iterable_class is ModelIterable and not queryset._known_related_objects
        if (
            not plain
            or compiler.annotation_col_map
            or compiler.klass_info["model"] is not self.model
        ):
            return None
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return CompiledInstances(
            sql=sql,
            params=params,
            slots=slots,
            converters=converters_of(
                compiler, [column[0] for column in select[: compiler.col_count]]
            ),
            width=compiler.col_count,
            own_columns=(start, end),
            init_list=tuple(column[0].target.attname for column in select[start:end]),
            related=tuple(get_related_populators(klass_info, select, db)),
            locks=bool(queryset.query.select_for_update),
            db=db,
        )


def probe(build: Callable[..., QuerySet], probes, db: str):
    """``build`` compiled for the two probe scopes: (the first queryset, its compiler, the SQL,
    the parameters with None where the scope goes, those positions with the scope's value each
    takes), or None when the two compilations differ by more than the scope or the queryset is
    not for ``db``."""
    first_scope, second_scope = probes
    first, second = build(*first_scope), build(*second_scope)
    if first.db != db:
        return None
    compiler = first.query.get_compiler(db)
    sql, params = compiler.as_sql()
    other_sql, other_params = second.query.get_compiler(db).as_sql()
    if sql != other_sql or len(params) != len(other_params):
        return None
    pairs = list(zip(first_scope, second_scope, strict=True))
    slots = []
    for position, both in enumerate(zip(params, other_params, strict=True)):
        if both[0] != both[1]:
            if both not in pairs:
                return None
            slots.append((position, pairs.index(both)))
    if not slots:
        return None
    constants = tuple(None if p != other_params[i] else p for i, p in enumerate(params))
    return first, compiler, sql, constants, tuple(slots)


def converters_of(compiler, columns) -> tuple:
    """The compiler's converters of ``columns``: (column, converters, expression) each."""
    return tuple((i, tuple(c), e) for i, (c, e) in compiler.get_converters(columns).items())


def scoped_params(compiled: Compiled, scope: tuple) -> list:
    params = list(compiled.params)
    for position, value in compiled.slots:
        params[position] = scope[value]
    return params


def fetch_converted(connection, sql: str, params, width: int, converters) -> list[list]:
    """The rows of compiled ``sql``, their first ``width`` columns converted by the compiler's
    ``converters`` ((column, converters, expression) each) as the ORM would."""
    with connection.cursor() as cursor:
        read_times_fast(cursor, connection)
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for fetched_row in fetched:
        row = list(fetched_row[:width])
        for column, column_converters, expression in converters:
            for converter in column_converters:
                row[column] = converter(row[column], expression, connection)
        rows.append(row)
    return rows
