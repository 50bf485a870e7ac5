"""Which adapter class serves each ``Provider.adapter`` value."""

from plans.models import Provider
from plans.providers.base import PermanentProviderError, ProviderAdapter
from plans.providers.sandbox import SandboxAdapter

ADAPTERS: dict[str, type[ProviderAdapter]] = {
    Provider.Adapter.SANDBOX: SandboxAdapter,
}


def get_adapter(provider: Provider) -> ProviderAdapter:
    """The adapter for an active provider; PermanentProviderError if inactive or not built yet."""
    if not provider.is_active:
        raise PermanentProviderError(f"Provider {provider.name} is inactive")
    adapter_class = ADAPTERS.get(provider.adapter)
    if adapter_class is None:
        raise PermanentProviderError(f"No adapter for {provider.adapter}")
    return adapter_class(provider)
