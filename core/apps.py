from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The base every app uses and that uses no app: money, the state machine, the audit trail,
    signing, validators, database helpers and the admin's building blocks."""

    name = "core"
