"""A service that accepts connections and never answers: Redis cut off mid-network."""

import socket
import threading

from django.core.cache import caches

TIMEOUT_SECONDS = 0.3


class StalledServer:
    """A TCP server that accepts connections, reads what it is sent and never answers; it keeps
    what reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.received = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection):
        with connection:
            while data := connection.recv(65536):
                self.received.append(data)

    def as_cache(self, settings):
        """The default cache on this server (``settings``: pytest-django's), timeouts of 0.3 s."""
        settings.CACHES = {
            "default": {
                "BACKEND": "core.cache.RedisCache",
                "LOCATION": self.url,
                "OPTIONS": {
                    "socket_timeout": TIMEOUT_SECONDS,
                    "socket_connect_timeout": TIMEOUT_SECONDS,
                },
            }
        }
        return caches["default"]

    def close(self):
        self.sock.close()
