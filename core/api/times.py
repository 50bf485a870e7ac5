"""PostgreSQL times read with ``datetime.fromisoformat`` for a cursor that reads many of them.

Django loads each ``timestamptz`` with psycopg's pure-Python parser and then sets the
connection's time zone; a 20-row page of three times spent more on that than on the rest of its
rows. PostgreSQL writes times in ISO 8601 (``DateStyle`` ISO, in the session's time zone, which
Django sets to the connection's), which ``fromisoformat`` reads in C. Any text it does not read
(another ``DateStyle``, a BC date, ``infinity``) goes to Django's loader, which answers or raises
as before.
"""

from datetime import datetime
from functools import cache


def read_times_fast(cursor, connection) -> None:
    """Have ``cursor`` (Django's, on ``connection``) load ``timestamptz`` values as Django would,
    faster; nothing on other databases."""
    if connection.vendor == "postgresql":
        cursor.cursor.adapters.register_loader("timestamptz", iso_loader(connection.timezone))


@cache
def iso_loader(zone):
    """The loader class for the connection time zone ``zone`` (None: naive times)."""
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class IsoTzLoader(BaseTzLoader):
        timezone = zone

        def load(self, data):
            try:
                value = datetime.fromisoformat(str(data, "ascii"))
            except ValueError:
                return super().load(data)
            if zone is None:
                return value.replace(tzinfo=None)
            return value.astimezone(zone)

    return IsoTzLoader
