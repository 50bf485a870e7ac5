"""Hot read queries run as PostgreSQL prepared statements.

Planning a list query with its joins costs PostgreSQL more than running it (My SIMs: 0.7 ms to
plan, 0.3 ms to run). A statement prepared once per database connection is planned once (then
PostgreSQL keeps a generic plan when it is as good); with ``DATABASE_CONN_MAX_AGE`` a connection
serves many requests. Django binds parameters in the client and never prepares, so the few
queries that run on every page view ask for :func:`prepared_cursor`: Django's cursor (its query
logging and wrappers, so query counts see them) over a server-binding psycopg cursor that
prepares every statement it runs. psycopg keeps up to ``prepared_max`` (100) statements a
connection. ``DATABASE_PREPARED_STATEMENTS=0`` turns it off (a PgBouncer older than 1.21 in
transaction mode cannot route prepared statements); other databases get the usual cursor.
"""

from functools import cache

from django.conf import settings


def prepared_cursor(connection):
    """A cursor of ``connection`` whose statements PostgreSQL prepares (use it as a context
    manager, like ``connection.cursor()``)."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    connection.ensure_connection()
    connection.validate_thread_sharing()
    cursor = preparing_cursor_class()(connection.connection)
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:  # as Django's own cursors do
        register_tzloader(connection.timezone, cursor)
    if connection.queries_logged:
        return logging_wrapper_class()(cursor, connection)
    return connection.make_cursor(cursor)


@cache
def preparing_cursor_class():
    """Django's server-binding cursor, preparing every statement it executes."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


@cache
def logging_wrapper_class():
    """Django's query-logging cursor wrapper, logging a prepared statement with its values in
    it (as Django logs every other query), not the ``$1`` text PostgreSQL was sent."""
    from django.db.backends.postgresql.base import CursorDebugWrapper
    from django.db.backends.utils import CursorWrapper

    class PreparedDebugWrapper(CursorDebugWrapper):
        def execute(self, sql, params=None):
            with self.debug_sql(self.db.ops.compose_sql(sql, params)):
                return CursorWrapper.execute(self, sql, params)

    return PreparedDebugWrapper
