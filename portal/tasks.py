"""Cross-cutting tasks."""

import os
import socket

from celery import shared_task


@shared_task(name="portal.ping")
def ping() -> dict:
    """Health check: answers from whichever worker ran it."""
    return {"pong": True, "worker": socket.gethostname(), "pid": os.getpid()}
