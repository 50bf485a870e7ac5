"""Django's PostgreSQL backend, with a reused connection checked without a round trip.

With ``CONN_HEALTH_CHECKS``, Django sends ``SELECT 1`` before the first query of every request
and task on a reused connection. A connection the server has ended (a restart, a failover, an
idle timeout, ``pg_terminate_backend``) has its end of file, or the server's FATAL message
before it, waiting on the socket; an idle connection with nothing waiting is one the server
still holds. The check here looks at the socket without waiting; a connection not idle, or with
anything waiting, is checked with Django's ``SELECT 1`` as before (and closed if it fails).
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        """Keep an idle connection with nothing from the server waiting; else Django's check."""
        if (
            not self.pool
            and self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and quiet_and_idle(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def quiet_and_idle(connection) -> bool:
    """Whether a psycopg connection is open, outside a transaction, with nothing to read."""
    if connection.closed:
        return False
    pgconn = connection.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)  # hang-ups and errors are reported too
    return not poller.poll(0)
