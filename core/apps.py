from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The base every app uses and that uses no app: money, the state machine, the audit trail,
    signing, validators, database helpers and the admin's building blocks."""

    name = "core"
    verbose_name = _("Audit trail")
