"""A page's query that differs between requests only by who asks: compiled once per process.

Compiling a list's queryset (its joins, its ordering expressions) costs Django more than
PostgreSQL takes to run it (My SIMs: 1.5 ms against 0.3 ms). :class:`ScopedQuery` builds the
queryset for two scopes that cannot exist (ids -1 and -2) and compares their SQL: the same text,
parameters equal but for the positions holding the scope. It keeps that text and the other
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
from django.db.models.query import ValuesListIterable

from core.api.times import read_times_fast

PROBES = (-1, -2)  # scopes no row has: only their positions differ between the two compilations


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple  # the constants, the scope's positions holding None
    slots: tuple[int, ...]  # where the scope goes
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)
    width: int


class ScopedQuery:
    """The ``values_list()`` rows of ``build(scope)`` (a queryset of ``model``), compiled once
    per database. ``build`` must depend on the scope alone: a value it reads from anywhere else
    (the clock, settings, the request) would be kept as a constant from the first call."""

    def __init__(self, model, build: Callable[[int], QuerySet]):
        self.model, self.build = model, build
        self._compiled: dict[str, Compiled | None] = {}
        self._lock = threading.Lock()

    def rows(self, scope: int) -> list[tuple]:
        """The rows for ``scope``: one query, the SQL compiled on the first call only."""
        db = router.db_for_read(self.model)
        if db not in self._compiled:
            with self._lock:
                self._compiled[db] = self.compile(db)
        compiled = self._compiled[db]
        if compiled is None:
            return list(self.build(scope))
        connection = connections[db]
        params = list(compiled.params)
        for slot in compiled.slots:
            params[slot] = scope
        width, converters = compiled.width, compiled.converters
        return [
            tuple(row)
            for row in fetch_converted(connection, compiled.sql, params, width, converters)
        ]

    def compile(self, db: str) -> Compiled | None:
        """The SQL both probe scopes share, or None when the scope is not all that differs."""
        first, second = (self.build(scope) for scope in PROBES)
        if first._iterable_class is not ValuesListIterable or first.db != db:
            return None
        compiler = first.query.get_compiler(db)
        sql, params = compiler.as_sql()
        other_sql, other_params = second.query.get_compiler(db).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            return None
        slots = tuple(i for i, param in enumerate(params) if param != other_params[i])
        if not slots or any((params[i], other_params[i]) != PROBES for i in slots):
            return None
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None
        converters = compiler.get_converters(fields)
        return Compiled(
            sql=sql,
            params=tuple(None if i in slots else param for i, param in enumerate(params)),
            slots=slots,
            converters=tuple((i, tuple(c), e) for i, (c, e) in converters.items()),
            width=compiler.col_count,
        )


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
