"""Database helpers every app uses: retrying a transaction that PostgreSQL chose to abort.

Lock order (ARCHITECTURE.md rule 9), the same on every path: partner (its wallet, ``FOR NO KEY
UPDATE`` so the foreign keys of new orders and ledger entries never wait on it), then the order,
its payments, its refunds, its SIMs; a worker's claim locks only the order
(``select_for_update(of=("self",))``), never the plan or provider it reads. A transaction that
still loses a deadlock is run again from the start by ``retry_on_deadlock``.
"""

import functools
import logging
import random
import time

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: the transaction did nothing.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
DEADLOCK_TRIES = 4


def now_and_after_commit(action) -> None:
    """Run ``action`` now and, inside a transaction, again once it commits: whoever reads
    between the two cannot keep what it read before the commit (cache invalidation)."""
    action()
    if connection.in_atomic_block:
        transaction.on_commit(action, robust=True)


def is_retryable(exc: OperationalError) -> bool:
    """Whether PostgreSQL aborted the transaction only to break a deadlock or a conflict."""
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_deadlock(func):
    """Run ``func`` (which opens its own transaction) again when it loses a deadlock, a few
    times with a short random pause. Inside an outer transaction it is not retried: the outer
    one is what was aborted."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        attempt = 1
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                last = attempt >= DEADLOCK_TRIES or connection.in_atomic_block
                if last or not is_retryable(exc):
                    raise
                logger.warning("%s lost a deadlock (try %d); again", func.__name__, attempt)
                time.sleep(random.uniform(0.005, 0.05) * attempt)
                attempt += 1

    return wrapper
