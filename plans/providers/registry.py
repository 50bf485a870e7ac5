"""Which adapter class serves each ``Provider.adapter`` value (imported when first needed)."""

from django.utils.module_loading import import_string

from plans.models import Provider
from plans.providers.base import PermanentProviderError, ProviderAdapter

ADAPTER_PATHS: dict[str, str] = {
    Provider.Adapter.SANDBOX: "plans.providers.sandbox.SandboxAdapter",
    Provider.Adapter.AIRALO: "plans.providers.airalo.AiraloAdapter",
    Provider.Adapter.ESIM_ACCESS: "plans.providers.esimaccess.EsimAccessAdapter",
    Provider.Adapter.RELOADLY: "plans.providers.reloadly.ReloadlyAdapter",
}


def adapter_class(adapter: str) -> type[ProviderAdapter] | None:
    """The class for an adapter name, or None if unknown or not built."""
    path = ADAPTER_PATHS.get(adapter)
    if path is None:
        return None
    try:
        return import_string(path)
    except ModuleNotFoundError as exc:
        if exc.name != path.rsplit(".", 1)[0]:
            raise  # the adapter module exists but one of its imports is missing
        return None


def get_adapter(provider: Provider) -> ProviderAdapter:
    """The adapter for an active provider; PermanentProviderError if inactive or not built yet."""
    if not provider.is_active:
        raise PermanentProviderError(f"Provider {provider.name} is inactive")
    cls = adapter_class(provider.adapter)
    if cls is None:
        raise PermanentProviderError(f"No adapter for {provider.adapter}")
    return cls(provider)
