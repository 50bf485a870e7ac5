"""Fail fast while a shared service (the cache, the broker) does not answer.

A request that needs Redis waits for a socket timeout when Redis is cut off; without a breaker
every request on every process pays it again, so a short outage becomes seconds on every answer.
Each process keeps one :class:`CircuitBreaker` per service: after a failure it refuses calls at
once for ``cooldown`` seconds (callers take their fallback: the database, the dispatcher), then lets
one call through to probe; the probe's success closes it.
"""

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

COOLDOWN_SECONDS = 10.0


class CircuitBreaker:
    """Closed (calls go through) until a call fails; then open for ``cooldown`` seconds."""

    def __init__(
        self,
        name: str,
        cooldown: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self.cooldown = cooldown
        self._clock = clock
        self._open_until = 0.0  # 0: closed
        self._lock = threading.Lock()

    def allows(self) -> bool:
        """Whether a call may go now. Once the cooldown is over, the first caller probes and the
        others are still refused until it succeeds or fails."""
        if not self._open_until:
            return True
        with self._lock:
            now = self._clock()
            if now < self._open_until:
                return False
            self._open_until = now + self.cooldown
            return True

    def failed(self) -> None:
        """A call found the service unreachable: refuse calls for the next ``cooldown`` seconds."""
        with self._lock:
            if not self._open_until:
                logger.warning(
                    "%s does not answer: calls fail at once for %ss", self.name, self.cooldown
                )
            self._open_until = self._clock() + self.cooldown

    def succeeded(self) -> None:
        """A call went through: close."""
        if self._open_until:
            with self._lock:
                self._open_until = 0.0
            logger.warning("%s answers again", self.name)


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(name: str) -> CircuitBreaker:
    """This process's breaker for the service called ``name`` (one per name)."""
    with _breakers_lock:
        return _breakers.setdefault(name, CircuitBreaker(name))


def close_all() -> None:
    """Close every breaker of this process (each test starts with the services answering)."""
    with _breakers_lock:
        breakers = list(_breakers.values())
    for breaker in breakers:
        breaker.succeeded()
