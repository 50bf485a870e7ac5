from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"

    def ready(self):
        from plans.services import catalog_version

        catalog_version.connect()
