"""Periodic sweeps go on past one item's failure, but not past their task's time.

Celery's ``SoftTimeLimitExceeded`` is an ``Exception``: a sweep that logs each item's error
and moves on would also swallow its own soft time limit, keep going, and be killed at the hard
limit in the middle of an item. :func:`item_failure_logged` logs any other error and lets
that one through.
"""

import logging
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded


@contextmanager
def item_failure_logged(logger: logging.Logger, message: str, *args):
    """Log an error raised in the block on ``logger`` (``message % args``, with its traceback)
    and go on; the task's soft time limit is raised on."""
    try:
        yield
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        logger.exception(message, *args)
