"""Handing due rows to workers, from any number of dispatchers at once.

A dispatcher locks the rows due first (``next_attempt_at`` oldest first), skipping those another
dispatcher holds, leases each (a time field moved forward: the row is due again when the lease
ends, unless its worker finishes it first), and queues a task for each once the lease is
committed. Provisioning, payment events and partner webhook deliveries are dispatched so.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

BATCH = 500


def hand_out_due(
    due: QuerySet,
    *,
    lease: dict[str, datetime],
    send: Callable[..., None],
    columns: tuple[str, ...] = ("pk",),
    limit: int = BATCH,
) -> int:
    """Lease the first ``limit`` rows of ``due`` (``lease``: the fields to write, e.g. the next
    attempt time) and ``send(*columns)`` of each (a task's ``delay_on_commit``: queued when
    the lease is written); returns how many."""
    with transaction.atomic():
        rows = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at")
            .values_list(*columns)[:limit]
        )
        due.model.objects.filter(pk__in=[row[0] for row in rows]).update(**lease)
        for row in rows:
            send(*row)
    return len(rows)
