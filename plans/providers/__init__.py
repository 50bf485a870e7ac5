"""Upstream providers: the capability interfaces, the adapters and the registry that picks one."""

from plans.providers.base import (
    IssuedProfile,
    PermanentProviderError,
    ProviderAdapter,
    ProviderError,
    RechargeResult,
    RenewalResult,
    TransientProviderError,
    Usage,
)
from plans.providers.capabilities import Capability
from plans.providers.registry import (
    NotOffered,
    adapters_offering,
    capabilities_of,
    get_adapter,
)

__all__ = [
    "Capability",
    "IssuedProfile",
    "NotOffered",
    "PermanentProviderError",
    "ProviderAdapter",
    "ProviderError",
    "RechargeResult",
    "RenewalResult",
    "TransientProviderError",
    "Usage",
    "adapters_offering",
    "capabilities_of",
    "get_adapter",
]
