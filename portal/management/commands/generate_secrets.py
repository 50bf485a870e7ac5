"""Print fresh production secrets: env lines (default) or a Kubernetes Secret manifest.

Nothing is written unless ``--output PATH`` is given: then a new file, mode 0600, never an
existing one.
"""

import os
import secrets

import yaml
from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError

SECRET_NAME = "portal-secrets"


def fresh_secrets() -> dict[str, str]:
    """New random values for every secret the portal generates itself."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "API_KEY_PEPPER": secrets.token_urlsafe(64),
        "IDENTITY_DOCUMENT_KEYS": Fernet.generate_key().decode(),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }


def as_env(values: dict[str, str]) -> str:
    """``KEY=value`` lines: compose's env file, or ``kubectl create secret --from-env-file``."""
    return "".join(f"{key}={value}\n" for key, value in values.items())


def as_kubernetes(values: dict[str, str]) -> str:
    """A Secret manifest named portal-secrets, the values in ``stringData``."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRET_NAME},
        "type": "Opaque",
        "stringData": values,
    }
    return yaml.safe_dump(manifest, sort_keys=False)


FORMATS = {"env": as_env, "kubernetes": as_kubernetes}


class Command(BaseCommand):
    help = (
        "Print fresh SECRET_KEY, API_KEY_PEPPER, IDENTITY_DOCUMENT_KEYS and METRICS_TOKEN "
        "as env lines or a Kubernetes Secret (portal-secrets)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=sorted(FORMATS), default="env")
        parser.add_argument(
            "--output", metavar="PATH", help="write to this new file (mode 0600) instead"
        )

    def handle(self, *args, output, **options):
        text = FORMATS[options["format"]](fresh_secrets())
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise CommandError(f"{output} exists: secrets are never overwritten.") from exc
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        self.stderr.write(f"Secrets written to {output} (mode 0600).")
