from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Catalog")

    def ready(self):
        from plans.services import catalog_version

        catalog_version.connect()
