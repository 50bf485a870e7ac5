"""Upstream providers: the interface, the adapters and the registry that picks one."""

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
from plans.providers.registry import get_adapter

__all__ = [
    "IssuedProfile",
    "PermanentProviderError",
    "ProviderAdapter",
    "ProviderError",
    "RechargeResult",
    "RenewalResult",
    "TransientProviderError",
    "Usage",
    "get_adapter",
]
