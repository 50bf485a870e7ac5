"""Catalog rows and answers a process keeps for as long as the catalog's version stays the same.

Placing a partner's order reads its plan, the plan's retail price and the partner's price
rule: three statements for rows that change a few times a day. With the catalog's version
(:mod:`plans.services.catalog_version`, which the API key's gate reads in the same round trip)
they are read once per process and version, and again at once after any committed change to
what is sold: every change replaces the version. The partner catalog's rendered answers are
kept the same way (:func:`recalled`, :func:`keep`).

Two bounds keep a missed replacement harmless: rows are kept at most :data:`MAX_AGE_SECONDS`
whatever the version (a replacement the cache never got, e.g. Redis down at that moment, shows
within them), and without a version (the cache does not answer) nothing is kept. A memo belongs
to its thread, so a row read under one version is never kept under another; it starts over when
it holds :data:`MAX_ENTRIES`.
"""

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

MAX_AGE_SECONDS = 10.0
MAX_ENTRIES = 256  # answers are a few kilobytes each (a 200-plan page ~60 KB)
T = TypeVar("T")


class _Memo(threading.local):
    version: str | None = None
    started = 0.0
    rows: dict

    def __init__(self):
        self.rows = {}


_memo = _Memo()


def remembered(version: str | None, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``'s value, kept under ``key`` while the catalog is at ``version`` (and at most
    :data:`MAX_AGE_SECONDS`); read each time when ``version`` is None."""
    if version is None:
        return read()
    rows = _rows(version)
    if key in rows:
        return rows[key]
    value = read()
    keep(version, key, value)
    return value


def recalled(version: str | None, key: Hashable):
    """The value kept under ``key`` at ``version``; None when none is (or ``version`` is None)."""
    return None if version is None else _rows(version).get(key)


def keep(version: str | None, key: Hashable, value) -> None:
    """Keep ``value`` under ``key`` at ``version`` (nothing without a version)."""
    if version is not None:
        rows = _rows(version)
        if len(rows) >= MAX_ENTRIES:
            rows = _memo.rows = {}
        rows[key] = value


def _rows(version: str) -> dict:
    now = time.monotonic()
    if version != _memo.version or now - _memo.started > MAX_AGE_SECONDS:
        _memo.version, _memo.started, _memo.rows = version, now, {}
    return _memo.rows
