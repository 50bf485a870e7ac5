"""Paging the admin's big tables without an exact ``COUNT(*)`` over millions of rows.

An unfiltered list on PostgreSQL shows the planner's row estimate (``~1,230,000``); any other
list counts at most ``COUNT_CAP + 1`` rows and shows ``10,000+`` beyond that (the pages after
the cap are not linked: narrow the list with a filter or a search instead).
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

COUNT_CAP = 10_000
ESTIMATE_FROM = 100_000  # below this many rows an exact count is cheap enough

ESTIMATE_SQL = """
    SELECT CASE
        WHEN reltuples < 0 THEN NULL
        WHEN relpages = 0 THEN reltuples
        ELSE reltuples / relpages
            * (pg_relation_size(oid) / current_setting('block_size')::integer)
    END
    FROM pg_class WHERE oid = to_regclass(%s)
"""


class ShownCount(int):
    """A row count that is not exact, rendered as ``~1,230,000`` or ``10,000+``."""

    def __new__(cls, value: int, shown: str):
        count = super().__new__(cls, value)
        count.shown = shown
        return count

    def __str__(self):
        return self.shown


def at_least(cap: int) -> ShownCount:
    """More than ``cap`` rows: one more than the cap, so that there is a page after it."""
    return ShownCount(cap + 1, f"{cap:,}+")


def about(estimate: int) -> ShownCount:
    """An estimate, shown rounded to three significant digits."""
    places = len(str(estimate)) - 3
    return ShownCount(estimate, f"~{round(estimate, -places) if places > 0 else estimate:,}")


def is_whole_table(queryset) -> bool:
    """Whether ``queryset`` selects every row of its table (no filter, grouping or slice)."""
    query = queryset.query
    return not (
        query.where or query.distinct or query.combinator or query.group_by or query.is_sliced
    )


def table_estimate(model, using: str) -> int | None:
    """PostgreSQL's estimate of the table's rows (as the planner makes it), else ``None``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(ESTIMATE_SQL, [connection.ops.quote_name(model._meta.db_table)])
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


class EstimatedCountPaginator(Paginator):
    """The admin's paginator for tables of millions of rows."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if is_whole_table(queryset):
            estimate = table_estimate(queryset.model, queryset.db)
            if estimate is not None and estimate >= ESTIMATE_FROM:
                return about(estimate)
            if estimate is not None:
                return queryset.count()
        counted = queryset.order_by()[: COUNT_CAP + 1].count()
        return at_least(COUNT_CAP) if counted > COUNT_CAP else counted
