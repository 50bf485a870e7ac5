"""A model whose ``save()`` reuses its INSERT and UPDATE SQL instead of compiling it each time.

``Model.save()`` builds an insert or update query and compiles it on every call, though for a
given model and set of fields the SQL is always the same: on the order path that costs Django
more than PostgreSQL takes to run the statement. :class:`CompiledSaves` keeps the SQL that
Django's compiler gave on the first save of each shape (model, database, fields) and runs it
with each save's values, prepared by the fields as the compiler prepares them
(``pre_save``, ``get_db_prep_save``). The first save of a shape checks that those values line
up with the ones the compiler bound (as many, of the same types); any value that is an
expression (``F()``, a database default), a raw save and a model with parents go through
Django's own path. Signals, ``update_fields`` and the other steps of ``save()`` are Django's:
only the last step changes. ``insert_all`` does the same for ``bulk_create`` (the audit trail's
batches), ``insert_new`` for ``bulk_create(ignore_conflicts=True)`` and :func:`update_if` for
a conditional ``UPDATE`` of one row.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery, UpdateQuery

from core.compiled import converters_of

_lock = threading.Lock()


@dataclass(frozen=True)
class _Statement:
    sql: str
    converters: tuple  # (column, converters, expression) of the returned columns


_statements: dict[tuple, _Statement | None] = {}


class CompiledSaves(models.Model):
    """``save()`` with its SQL compiled once per shape (see the module)."""

    class Meta:
        abstract = True

    def _do_insert(self, manager, using, fields, returning_fields, raw):
        connection = connections[using]
        cacheable = not raw and not self._meta.parents
        if cacheable and returning_fields:
            cacheable = connection.features.can_return_columns_from_insert
        values = [field.pre_save(self, True) for field in fields] if cacheable else ()
        if not cacheable or any(hasattr(value, "resolve_expression") for value in values):
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        params = [
            field.get_db_prep_save(v, connection) for field, v in zip(fields, values, strict=True)
        ]
        key = ("insert", type(self), using, tuple(fields), tuple(returning_fields or ()))
        statement = _kept(
            key, lambda: self._compile_insert(using, fields, returning_fields, params)
        )
        if statement is None:
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            if not returning_fields:
                return []
            row = list(connection.ops.fetch_returned_insert_columns(cursor, ()))
        for column, column_converters, expression in statement.converters:
            for converter in column_converters:
                row[column] = converter(row[column], expression, connection)
        return [row]

    def _compile_insert(self, using, fields, returning_fields, params) -> _Statement | None:
        query = InsertQuery(type(self))
        query.insert_values(fields, [self], raw=True)  # values as pre_save() just set them
        compiler = query.get_compiler(using)
        compiler.returning_fields = returning_fields
        [(sql, bound)] = compiler.as_sql()
        if not _same_shape(bound, params) or compiler.returning_params:
            return None
        columns = [field.get_col(self._meta.db_table) for field in returning_fields or ()]
        return _Statement(sql, converters_of(compiler, columns))

    @classmethod
    def insert_all(cls, objs: list, using: str = DEFAULT_DB_ALIAS) -> None:
        """``bulk_create(objs)`` (no signals; each gets its id), compiled once per shape: on
        PostgreSQL several rows are one ``UNNEST`` of a list per column, whatever their number."""
        connection, meta = connections[using], cls._meta
        if len(objs) == 1 and not meta.parents:  # the single row's statement, as save() runs it
            objs[0]._save_table(cls=cls, force_insert=True, using=using)
            objs[0]._state.adding, objs[0]._state.db = False, using
            return
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.pk]
        values = [[field.pre_save(obj, True) for field in fields] for obj in objs]
        plain = len(objs) > 1 and connection.vendor == "postgresql" and not meta.parents
        if not plain or any(hasattr(v, "resolve_expression") for row in values for v in row):
            cls._base_manager.using(using).bulk_create(objs)
            return
        columns = [
            [field.get_db_prep_save(value, connection) for value in column]
            for field, column in zip(fields, zip(*values, strict=True), strict=True)
        ]
        returning = meta.db_returning_fields
        key = ("insert_all", cls, using, tuple(fields))
        statement = _kept(
            key, lambda: cls._compile_insert_all(objs, using, fields, returning, columns)
        )
        if statement is None:
            cls._base_manager.using(using).bulk_create(objs)
            return
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, columns)
            returned = cursor.fetchall()
        for obj, row in zip(objs, returned, strict=True):
            for field, value in zip(returning, row, strict=True):
                setattr(obj, field.attname, value)
            obj._state.adding, obj._state.db = False, using

    @classmethod
    def insert_new(cls, objs: list, using: str = DEFAULT_DB_ALIAS) -> None:
        """``bulk_create(objs, ignore_conflicts=True)``: each row written unless a row already
        holds its unique values (``ON CONFLICT DO NOTHING``: no read first), compiled once per
        shape and number of rows. No signals and no ``save()``; the ids are not read back."""
        connection, meta = connections[using], cls._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.pk]
        values = [[field.pre_save(obj, True) for field in fields] for obj in objs]
        if meta.parents or any(hasattr(v, "resolve_expression") for row in values for v in row):
            cls._base_manager.using(using).bulk_create(objs, ignore_conflicts=True)
            return
        rows = [
            [field.get_db_prep_save(v, connection) for field, v in zip(fields, row, strict=True)]
            for row in values
        ]
        key = ("insert_new", cls, using, tuple(fields), len(objs))
        statement = _kept(key, lambda: cls._compile_insert_new(objs, using, fields, rows))
        if statement is None:
            cls._base_manager.using(using).bulk_create(objs, ignore_conflicts=True)
            return
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, _insert_params(statement.sql, rows))

    @classmethod
    def _compile_insert_new(cls, objs, using, fields, rows) -> _Statement | None:
        query = InsertQuery(cls, on_conflict=OnConflict.IGNORE)
        query.insert_values(fields, objs, raw=True)  # values as pre_save() just set them
        statements = query.get_compiler(using).as_sql()
        if len(statements) != 1:
            return None
        [(sql, bound)] = statements
        return _Statement(sql, ()) if _same_values(bound, _insert_params(sql, rows)) else None

    @classmethod
    def _compile_insert_all(cls, objs, using, fields, returning, columns) -> _Statement | None:
        query = InsertQuery(cls)
        query.insert_values(fields, objs, raw=True)  # values as pre_save() just set them
        compiler = query.get_compiler(using)
        compiler.returning_fields = returning
        [(sql, bound)] = compiler.as_sql()
        unnest = "UNNEST(" in sql and not compiler.get_converters(
            [field.get_col(cls._meta.db_table) for field in returning]
        )
        if not unnest or not _same_shape(bound, columns) or compiler.returning_params:
            return None
        return _Statement(sql, ())

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        plain = (
            values and not self._meta.parents and (forced_update or not self._meta.select_on_save)
        )
        if not plain or any(hasattr(value, "resolve_expression") for _f, _m, value in values):
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        connection = connections[using]
        fields = tuple(field for field, _model, _value in values)
        prepared = [field.get_db_prep_save(value, connection) for field, _m, value in values]
        # The compiler writes a None as NULL, not as a parameter: which are None is the shape.
        nulls = tuple(value is None for value in prepared)
        params = [value for value in prepared if value is not None]
        params.append(self._meta.pk.get_db_prep_value(pk_val, connection))
        key = ("update", type(self), using, fields, nulls)
        statement = _kept(key, lambda: self._compile_update(base_qs, using, pk_val, values, params))
        if statement is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            return cursor.rowcount > 0

    def _compile_update(self, base_qs, using, pk_val, values, params) -> _Statement | None:
        query = base_qs.filter(pk=pk_val).query.chain(UpdateQuery)
        query.add_update_fields(values)
        compiler = query.get_compiler(using)
        sql, bound = compiler.as_sql()
        if not _same_shape(bound, params) or query.related_updates:
            return None
        return _Statement(sql, ())


def _kept(key: tuple, compile_statement) -> _Statement | None:
    """The statement kept for ``key``, compiled by ``compile_statement`` the first time (None:
    the shape goes through Django's own path)."""
    if key not in _statements:
        with _lock:
            _statements[key] = compile_statement()
    return _statements[key]


def _insert_params(sql: str, rows: list) -> list:
    """An INSERT's parameters as the compiler binds them: one list per column for PostgreSQL's
    ``UNNEST`` of several rows, else each row's values in turn."""
    if "UNNEST(" in sql:
        return [list(column) for column in zip(*rows, strict=True)]
    return [value for row in rows for value in row]


def _same_shape(bound, params) -> bool:
    """Whether the values we prepared line up with those the compiler bound: as many, each of
    the same type (a JSON value is a fresh adapter object each time)."""
    return len(bound) == len(params) and all(
        type(ours) is type(theirs) for ours, theirs in zip(params, bound, strict=True)
    )


def update_if(model, pk, *, where: Mapping, values: Mapping, using: str = DEFAULT_DB_ALIAS) -> bool:
    """``UPDATE`` the row ``pk`` of ``model`` with ``values`` if its fields equal ``where`` now
    (None: is null); whether it did. One statement, no read first: ``where`` is its own fence.
    Compiled once per shape; the SQL kept only if it binds exactly the values prepared here
    (otherwise the ORM's ``update()`` each time). Fields Django sets on save (``auto_now``)
    are not: name them in ``values``."""
    orm = model._base_manager.using(using).filter(pk=pk, **where)
    if any(hasattr(value, "resolve_expression") for value in (*values.values(), *where.values())):
        return orm.update(**values) > 0
    connection, meta = connections[using], model._meta
    sets = [
        meta.get_field(name).get_db_prep_save(value, connection) for name, value in values.items()
    ]
    # The compiler binds no parameter for a null fence (IS NULL) nor a boolean one (the column
    # or NOT the column): those values are part of the shape instead.
    fences, fence_shape = [], []
    for name, value in where.items():
        field = meta.get_field(name)
        if value is None or isinstance(value, bool):
            fence_shape.append((name, value))
            continue
        fences.append(field.get_db_prep_value(field.get_prep_value(value), connection, True))
        fence_shape.append((name, "bound"))
    pk_param = meta.pk.get_db_prep_value(pk, connection)
    params = [v for v in sets if v is not None] + [pk_param] + fences
    set_shape = tuple(zip(values, (v is None for v in sets), strict=True))
    key = ("update_if", model, using, set_shape, tuple(fence_shape))
    statement = _kept(key, lambda: _compile_update_if(model, pk, where, values, using, params))
    if statement is None:
        return orm.update(**values) > 0
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        return cursor.rowcount > 0


def _compile_update_if(model, pk, where, values, using, params) -> _Statement | None:
    rows = model._base_manager.using(using).filter(pk=pk)
    for name, value in where.items():  # one filter each: their parameters in this order
        rows = rows.filter(**{name: value})
    query = rows.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, bound = query.get_compiler(using).as_sql()
    if query.related_updates or not _same_values(bound, params):
        return None
    return _Statement(sql, ())


def _same_values(bound, params) -> bool:
    """Whether the compiler bound our values in our order: each equal, or of the same type
    where that type cannot tell (an adapter such as a binary value's compares by identity)."""
    return _same_shape(bound, params) and all(
        ours == theirs or type(ours).__eq__ is object.__eq__
        for ours, theirs in zip(params, bound, strict=True)
    )
