"""A partner list's page query, compiled once per shape and run with each request's values.

Building and compiling a list's ``values()`` query cost more than running it. A view's rows are
the same SQL for every partner and cursor, but for their values: the partner's id and the
cursor's position. :class:`CompiledRows` stands in for the queryset that cursor pagination orders,
filters by the position and slices; on its first page of a shape (the view, the database, the
ordering, the position's lookup, the slice) it builds the real queryset, compiles it, and keeps
the SQL when its parameters are exactly the request's values (each found once, nothing else).
Later pages of that shape run the kept SQL with their own values through the connection's cursor
and turn the rows into dicts with the compiler's converters, as ``values()`` would.

What is kept is SQL text, never data: each page reads the database. A shape whose SQL holds
anything else (a constant parameter, a value the ORM changes) is compiled on every page.
"""

import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models.query import ValuesIterable

from core.compiled import fetch_converted

MAX_SHAPES = 512  # then the store starts over: a shape costs one compilation to keep again


@dataclass(frozen=True)
class Page:
    """A shape's SQL: which value goes in each parameter, and how rows become dicts."""

    sql: str
    slots: tuple[int, ...]  # per parameter, the index of the request's value
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple, object], ...]  # (column, converters, expression)


_pages: dict[tuple, Page] = {}
_lock = threading.Lock()


def slots_of(params, values) -> tuple[int, ...] | None:
    """Each parameter's index in ``values`` when the parameters are exactly the values, each
    found once (same type, equal); else None."""
    if len(params) != len(values):
        return None
    slots = []
    for param in params:
        found = [i for i, value in enumerate(values) if type(value) is type(param)]
        found = [i for i in found if values[i] == param]
        if len(found) != 1:
            return None
        slots.append(found[0])
    return tuple(slots) if sorted(slots) == list(range(len(values))) else None


def prepared(model, lookup: str, value, connection):
    """``value`` as the ORM would pass it to the database for ``filter(**{lookup: value})`` on one
    of ``model``'s own columns; raises as ``filter()`` would for a value the field refuses."""
    name, _, lookup_name = lookup.partition("__")
    field = model._meta.get_field(name)
    condition = field.get_lookup(lookup_name or "exact")(field.get_col(model._meta.db_table), value)
    _sql, params = condition.get_db_prep_lookup(condition.rhs, connection)
    return params[0] if len(params) == 1 else condition  # a lookup object matches no parameter


class CompiledRows:
    """The ``values()`` rows of ``build()`` (a queryset of ``model`` scoped to ``partner_id``), as
    cursor pagination uses them: ``order_by``, ``filter`` on the model's own columns, a slice."""

    def __init__(self, key, model, partner_id: int, build, *, db=None, shape=(), values=()):
        self.key, self.model, self.partner_id, self.build = key, model, partner_id, build
        self.db = db or router.db_for_read(model)
        self.shape, self.values = shape, values
        self.ops = ()

    def _then(self, op: tuple, shape: tuple, values: tuple = ()) -> "CompiledRows":
        rows = CompiledRows(
            self.key,
            self.model,
            self.partner_id,
            self.build,
            db=self.db,
            shape=(*self.shape, *shape),
            values=(*self.values, *values),
        )
        rows.ops = (*self.ops, op)
        return rows

    def order_by(self, *fields) -> "CompiledRows":
        return self._then(("order_by", fields, {}), ("order_by", fields))

    def filter(self, **lookups) -> "CompiledRows":
        connection = connections[self.db]
        names = tuple(sorted(lookups))
        values = tuple(prepared(self.model, name, lookups[name], connection) for name in names)
        kinds = tuple(type(value) for value in values)
        return self._then(("filter", (), lookups), ("filter", names, kinds), values)

    def __getitem__(self, window: slice) -> "CompiledRows":
        if not isinstance(window, slice):
            raise TypeError("CompiledRows takes a slice")
        return self._then(("slice", window, {}), ("slice", window.start, window.stop))

    def __iter__(self):
        return iter(self.rows())

    def rows(self) -> list[dict]:
        """The page's rows: one query, compiled only for a shape not kept yet."""
        connection = connections[self.db]
        key = (self.key, self.db, connection.vendor, *self.shape)
        values = (self.partner_id, *self.values)
        page = _pages.get(key)
        if page is None:
            try:
                page, params, keep = self.compile(values)
            except EmptyResultSet:
                return []
            if keep:
                with _lock:
                    if len(_pages) >= MAX_SHAPES:
                        _pages.clear()
                    _pages[key] = page
        else:
            params = [values[slot] for slot in page.slots]
        rows = fetch_converted(connection, page.sql, params, len(page.names), page.converters)
        return [dict(zip(page.names, row, strict=True)) for row in rows]

    def compile(self, values: tuple) -> tuple[Page, list, bool]:
        """The real queryset's SQL and parameters, and whether its shape may be kept (its
        parameters are the request's values and nothing else)."""
        queryset = self.build()
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError("CompiledRows runs values() querysets")
        for name, args, kwargs in self.ops:
            if name == "slice":
                queryset = queryset[args]
            else:
                queryset = getattr(queryset, name)(*args, **kwargs)
        query = queryset.query
        compiler = query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        names = query.selected or [
            *query.extra_select,
            *query.values_select,
            *query.annotation_select,
        ]
        converters = compiler.get_converters(fields)
        slots = slots_of(params, values)
        page = Page(
            sql=sql,
            slots=slots or (),
            names=tuple(names),
            converters=tuple((i, tuple(c), e) for i, (c, e) in converters.items()),
        )
        keep = (
            slots is not None
            and queryset.db == self.db
            and not compiler.has_composite_fields(fields)
            and len(names) == compiler.col_count
        )
        return page, list(params), keep


def forget() -> None:
    """Drop every kept shape: the next page of each compiles again."""
    with _lock:
        _pages.clear()
