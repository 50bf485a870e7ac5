"""System checks of the production settings: run by ``manage.py check`` (and ``--deploy``)."""

from portal.checks import deployment, providers  # noqa: F401  (registers the checks)
