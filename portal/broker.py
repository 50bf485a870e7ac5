"""The broker's transport: kombu's Redis transport, keeping one Redis client per connection pool.

kombu builds a new ``redis.Redis`` (its table of reply callbacks) for each message it publishes
and each one it acknowledges, which costs more than the commands sent. A client shares its pool's
connections and is safe to share itself; a new pool (after a fork or a lost connection) gets a
new client. Chosen by ``broker_transport`` (portal/celery.py) for ``redis://`` and ``rediss://``
URLs; the embedded broker's ``redis+socket://`` names kombu's own transport in its scheme.
"""

from kombu.transport import redis


class Channel(redis.Channel):
    """kombu's channel, its publishing and acknowledging client kept per pool."""

    _kept_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool, kept = self.pool, self._kept_client
        if kept is None or kept.connection_pool is not pool:
            kept = self._kept_client = super()._create_client()
        return kept


class Transport(redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
