"""What every upstream adapter shares: its errors, its results and one small base class.

Every call carries our own ``reference`` (stable across retries of the same order), so an
upstream that has seen it returns the earlier result instead of buying twice.
What an adapter can do is declared by the interfaces in ``plans.providers.capabilities``.
How to write an adapter, and the rules it keeps: docs/providers.md.
"""

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
    """Data and validity added to an existing profile (see ``TopsUpEsims.top_up``)."""

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


class ProviderAdapter:
    """What every adapter has: its Provider row and credentials. What it can do is the set of
    capability interfaces it subclasses (``plans.providers.capabilities``), gathered in
    ``capabilities`` when the class is made. ``options`` are the Provider row's settings;
    ``credentials`` its entry in ``settings.PROVIDER_CREDENTIALS`` (from the environment)."""

    required_credentials: tuple[str, ...] = ()
    capabilities: frozenset = frozenset()  # of ``Capability``, from the interfaces subclassed
    #: Why a capability is missing, for staff (e.g. what to do by hand instead).
    unoffered_notes: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(
            base.__dict__["capability"] for base in cls.__mro__ if "capability" in base.__dict__
        )

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

    def offers(self, capability) -> bool:
        """Whether this provider does ``capability`` (its class's, unless its options narrow it)."""
        return capability in self.capabilities
