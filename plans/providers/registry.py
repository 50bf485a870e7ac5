"""Which adapter class serves each ``Provider.adapter`` value (imported when first needed), and
what each can do (``capabilities_of``), known without credentials or a call upstream."""

from django.utils.module_loading import import_string

from plans.providers.base import PermanentProviderError, ProviderAdapter
from plans.providers.capabilities import Capability

ADAPTER_PATHS: dict[str, str] = {  # keys: the ``Provider.Adapter`` values stored on each row
    "sandbox": "plans.providers.sandbox.SandboxAdapter",
    "airalo": "plans.providers.airalo.AiraloAdapter",
    "esimaccess": "plans.providers.esimaccess.EsimAccessAdapter",
    "reloadly": "plans.providers.reloadly.ReloadlyAdapter",
}


class NotOffered(PermanentProviderError):
    """The provider's adapter does not declare the capability a call needs."""


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


def capabilities_of(adapter: str) -> frozenset[Capability]:
    """What the adapter named ``adapter`` declares it can do (nothing if unknown)."""
    cls = adapter_class(adapter)
    return cls.capabilities if cls is not None else frozenset()


def adapters_offering(capability: Capability) -> list[str]:
    """The adapter names whose class declares ``capability``."""
    return [name for name in ADAPTER_PATHS if capability in capabilities_of(name)]


def get_adapter(provider, *, needs: Capability | None = None) -> ProviderAdapter:
    """The adapter for an active provider; PermanentProviderError if inactive or not built yet,
    NotOffered if it does not declare ``needs``."""
    if not provider.is_active:
        raise PermanentProviderError(f"Provider {provider.name} is inactive")
    cls = adapter_class(provider.adapter)
    if cls is None:
        raise PermanentProviderError(f"No adapter for {provider.adapter}")
    if needs is not None and needs not in cls.capabilities:
        note = cls.unoffered_notes.get(needs)
        raise NotOffered(
            f"{provider.name} ({provider.adapter}) does not offer {needs.label}"
            + (f": {note}" if note else "")
        )
    return cls(provider)
