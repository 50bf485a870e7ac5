"""The upstream provider interface: one small base class, one module per upstream.

Every call carries our own ``reference`` (stable across retries of the same order), so an
upstream that has seen it returns the earlier result instead of buying twice.
How to write an adapter, and the rules it keeps: docs/providers.md.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class ProviderError(Exception):
    """An upstream call failed. ``summary`` is a short, log-safe description."""

    def __init__(self, summary: str, *, retry_after: float | None = None):
        super().__init__(summary)
        self.summary = summary
        self.retry_after = retry_after


class TransientProviderError(ProviderError):
    """Worth retrying: timeouts, connection errors, 5xx, 429 (``retry_after`` seconds if known)."""


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
class TopUpResult:
    """Data and validity added to an existing profile (see ``ProviderAdapter.top_up``)."""

    upstream_reference: str
    data_added_mb: int = 0
    expires_at: datetime | None = None  # the profile's expiry after the top-up


@dataclass(frozen=True)
class RechargeResult:
    upstream_reference: str  # the upstream's transaction id
    delivered_amount: Decimal
    currency: str
    operator_reference: str = ""  # the operator's own transaction id, when the upstream gives it


@dataclass(frozen=True)
class Usage:
    data_total_mb: int | None
    data_remaining_mb: int | None
    expires_at: datetime | None
    status: str  # "issued", "active", "expired", "cancelled"
    as_of: datetime


@dataclass(frozen=True)
class CatalogItem:
    """One plan as an upstream sells it, mapped to our terms (see ``plans.catalog_sync``)."""

    sku: str
    name: str
    kind: str  # a ``PlanKind`` value
    operator_code: str  # our ``Operator.code``; "" when it maps to none of ours
    cost: Decimal
    cost_currency: str
    validity_days: int
    data_mb: int | None = None  # None: no data, or unlimited
    data_unlimited: bool = False
    minutes: int | None = None
    sms: int | None = None
    airtime_amount: Decimal | None = None


@dataclass(frozen=True)
class CallbackEvent:
    """A verified inbound provider webhook. ``usage`` is None when there is nothing to apply."""

    event_id: str
    event_type: str
    iccid: str
    payload: dict
    usage: Usage | None = None


class CallbackError(ValueError):
    """An inbound provider webhook that is unsigned, badly signed or malformed."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class ProviderAdapter(ABC):
    """What the portal needs from an upstream. ``options`` are the Provider row's settings;
    ``credentials`` its entry in ``settings.PROVIDER_CREDENTIALS`` (from the environment)."""

    required_credentials: tuple[str, ...] = ()
    #: Whether ``top_up`` is offered: callers check it before calling (a replacement that cannot
    #: be topped up is still issued, with a note for staff).
    offers_top_up: bool = False

    def __init__(self, provider):
        self.provider = provider
        self.options = provider.settings or {}
        self.credentials = self.credentials_for(provider.adapter)
        missing = self.missing_credentials(provider.adapter)
        if missing:
            raise PermanentProviderError(
                f"{provider.name}: credentials missing ({', '.join(missing)})"
            )

    @staticmethod
    def credentials_for(adapter: str) -> dict:
        """The credentials configured for an adapter name."""
        from django.conf import settings

        return settings.PROVIDER_CREDENTIALS.get(adapter, {})

    @classmethod
    def missing_credentials(cls, adapter: str) -> list[str]:
        """Names of the required credentials that are not set."""
        configured = cls.credentials_for(adapter)
        return [name for name in cls.required_credentials if not configured.get(name)]

    @abstractmethod
    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """A new eSIM profile with the plan (``msisdn`` set: a replacement for that line)."""

    @abstractmethod
    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Add the plan to an existing eSIM."""

    def top_up(
        self,
        *,
        reference: str,
        iccid: str,
        data_mb: int = 0,
        valid_until: datetime | None = None,
    ) -> TopUpResult:
        """Add ``data_mb`` to a profile and keep it valid at least until ``valid_until``.

        Used at our cost (a replacement carrying the old SIM's data and validity over). Idempotent
        on ``reference``: a second call returns the first top-up and adds nothing, even when it
        asks for other amounts. Adapters that cannot do it leave ``offers_top_up`` False and this
        refusal in place.
        """
        raise PermanentProviderError(f"{self.provider.adapter}: top-up not offered")

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

    def list_catalog(self) -> list[CatalogItem]:
        """Everything the upstream sells now (for catalog sync)."""
        raise PermanentProviderError(f"{self.provider.adapter} has no catalog to sync")

    def parse_callback(self, *, headers, body: bytes) -> CallbackEvent:
        """Verify and read one inbound webhook; CallbackError if it is not genuine or malformed."""
        raise NotImplementedError
