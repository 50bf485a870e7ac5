"""Provider checks: production refuses to start an active real provider without its credentials,
and ``check --deploy`` reports the sandbox provider taking orders."""

from django.conf import settings
from django.core.checks import Error, Warning, register
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


@register(deploy=True)
def sandbox_provider(app_configs=None, **kwargs):
    """portal.E028 (real payments) or W028 (test gateway): the sandbox provider is active."""
    if not settings.PRODUCTION:
        return []
    from plans.models import Provider

    try:
        active = Provider.objects.filter(is_active=True, adapter=Provider.Adapter.SANDBOX).exists()
    except DatabaseError:
        return []
    if not active:
        return []
    if settings.PAYMENT_GATEWAY == "test":
        return [
            Warning(
                "The sandbox provider is active: its eSIMs are not real (staging only).",
                hint="Deactivate the sandbox provider before taking real orders.",
                id="portal.W028",
            )
        ]
    return [
        Error(
            "The sandbox provider is active while real payments are taken: customers would pay "
            "for eSIMs that do not exist.",
            hint="Deactivate the sandbox provider (admin, Providers) and its plans.",
            id="portal.E028",
        )
    ]
