"""Nearest-rank percentiles computed in the database, on SQLite and PostgreSQL alike.

One query ranks the rows with window functions and returns only the rows that sit at the
wanted ranks, so the result is a handful of rows whatever the size of the table.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber


@dataclass
class Ranked:
    """How many values were ranked, and the value found at each wanted percentile."""

    count: int = 0
    values: dict[int, Any] = field(default_factory=dict)


def nearest_rank(percent: int, count: int) -> int:
    """The 1-based rank of the ``percent`` percentile among ``count`` sorted values."""
    return max(1, -(-percent * count // 100))


def percentiles(
    queryset: QuerySet, value: str, percents: tuple[int, ...], partition: str | None = None
) -> dict:
    """``{partition value: Ranked}`` for the rows of ``queryset``, in one query.

    ``value`` names a field or annotation to rank by; ``partition`` optionally names a field to
    rank within (e.g. ``provider_id``). Without a partition the only key is ``None``. A
    percentile is the smallest value with at least ``percent`` % of the values at or below it.
    """
    over = {"partition_by": [F(partition)]} if partition else {}
    numbered = queryset.order_by().annotate(
        _rank=Window(RowNumber(), order_by=[F(value).asc(), F("pk").asc()], **over),
        _count=Window(Count("pk"), **over),
    )
    at_a_rank = Q()
    for percent in percents:
        # rank == ceil(share), share = percent * count / 100: the one rank in [share, share + 1).
        at_a_rank |= Q(_rank__gte=F("_count") * percent / 100.0) & Q(
            _rank__lt=F("_count") * percent / 100.0 + 1
        )
    rows = numbered.filter(at_a_rank).values_list(partition or "pk", value, "_rank", "_count")
    found: dict[Any, Ranked] = {}
    for key, ranked_value, rank, count in rows:
        ranked = found.setdefault(key if partition else None, Ranked(count=count))
        for percent in percents:
            if nearest_rank(percent, count) == rank:
                ranked.values[percent] = ranked_value
    return found
