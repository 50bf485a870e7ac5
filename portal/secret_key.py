"""The development secret key: generated once and kept in a private local file."""

import os
from pathlib import Path

from django.core.management.utils import get_random_secret_key


def load_or_create_dev_secret_key(path: Path) -> str:
    """Return the key stored at ``path``, creating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = get_random_secret_key() + get_random_secret_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
