from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and partners")

    def ready(self):
        from accounts.api.keys import connect_signals

        connect_signals()
