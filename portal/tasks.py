"""Cross-cutting tasks."""

import os
import socket

from celery import shared_task


@shared_task(name="portal.ping", soft_time_limit=10, time_limit=20, ignore_result=False)
def ping() -> dict:
    """Health check: answers from whichever worker ran it."""
    return {"pong": True, "worker": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="portal.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Daily: forget Idempotency-Key records older than their 48 h retention."""
    from portal.api.idempotency import purge_expired_records

    return purge_expired_records()
