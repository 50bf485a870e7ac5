"""The upstream provider interface: one small base class, one module per upstream.

Every call carries our own ``reference`` (stable across retries of the same order), so an
upstream that has seen it returns the earlier result instead of buying twice.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class ProviderError(Exception):
    """An upstream call failed. ``summary`` is a short, log-safe description."""

    def __init__(self, summary: str):
        super().__init__(summary)
        self.summary = summary


class TransientProviderError(ProviderError):
    """Worth retrying: timeouts, connection errors, 5xx, 429."""


class PermanentProviderError(ProviderError):
    """Retrying will not help: 4xx, unknown SKU, invalid number."""


@dataclass(frozen=True)
class IssuedProfile:
    iccid: str
    activation_code: str  # LPA:1$<SM-DP+ address>$<matching id>
    upstream_reference: str  # the upstream's own order id
    confirmation_code: str = ""
    msisdn: str = ""
    data_total_mb: int | None = None  # None: unlimited or no data
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RenewalResult:
    upstream_reference: str
    expires_at: datetime | None = None
    data_added_mb: int | None = None


@dataclass(frozen=True)
class RechargeResult:
    upstream_reference: str  # the operator's transaction id
    delivered_amount: Decimal
    currency: str


@dataclass(frozen=True)
class Usage:
    data_total_mb: int | None
    data_remaining_mb: int | None
    expires_at: datetime | None
    status: str  # "issued", "active", "expired", "cancelled"
    as_of: datetime


class ProviderAdapter(ABC):
    """What the portal needs from an upstream. ``options`` are the Provider row's settings."""

    def __init__(self, provider):
        self.provider = provider
        self.options = provider.settings or {}

    @abstractmethod
    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """A new eSIM profile with the plan (``msisdn`` set: a replacement for that line)."""

    @abstractmethod
    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Add the plan to an existing eSIM."""

    @abstractmethod
    def recharge(
        self,
        *,
        reference: str,
        msisdn: str,
        operator_code: str,
        plan_sku: str,
        amount: Decimal,
        currency: str,
    ) -> RechargeResult:
        """Send airtime/data to a physical SIM's number."""

    @abstractmethod
    def read_usage(self, *, iccid: str) -> Usage:
        """Data left and expiry as the upstream sees them now."""

    @abstractmethod
    def cancel(self, *, reference: str, iccid: str) -> None:
        """Cancel an unused or replaced profile."""
