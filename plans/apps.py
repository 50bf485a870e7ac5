from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = _("Catalog")

    def ready(self):
        from core.api import gate
        from plans.services import catalog_version

        catalog_version.connect()
        gate.read_along_always(catalog_version.KEY)  # every API request knows the version
