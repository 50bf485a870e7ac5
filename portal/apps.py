from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self):
        from portal import checks, staff_mfa  # noqa: F401  (system checks, signal receivers)
