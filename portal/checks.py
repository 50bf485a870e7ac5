"""System checks: production refuses to start an active real provider without its credentials."""

from django.conf import settings
from django.core.checks import Error, register
from django.db import DatabaseError


@register()
def provider_credentials(app_configs=None, **kwargs):
    """portal.E010: an active provider whose adapter's credentials are missing (production only)."""
    if not settings.PRODUCTION:
        return []
    from plans.models import Provider
    from plans.providers.registry import adapter_class

    try:
        providers = list(Provider.objects.filter(is_active=True))
    except DatabaseError:  # no tables yet (before the first migrate)
        return []
    errors = []
    for provider in providers:
        adapter = adapter_class(provider.adapter)
        missing = adapter.missing_credentials(provider.adapter) if adapter else []
        if missing:
            errors.append(
                Error(
                    f"Provider {provider.name!r} ({provider.adapter}) is active but "
                    f"{', '.join(missing)} is not set.",
                    hint="Set the credentials in the environment or deactivate the provider.",
                    id="portal.E010",
                )
            )
    return errors
