"""What an upstream can do, one small interface per capability.

An adapter subclasses ``ProviderAdapter`` and the interfaces of what its upstream offers, and
implements only those: ``AdapterClass.capabilities`` is the set they declare, known before any
call, so a plan the provider cannot serve is refused when it is saved (``Plan.clean``), is not
listed for sale, and is never placed. What a plan kind needs: ``plans.models.CAPABILITY_FOR_KIND``.
"""

from abc import ABC, abstractmethod
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from plans.providers.base import (
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    RechargeResult,
    RenewalResult,
    TopUpResult,
    Usage,
)


class Capability(StrEnum):
    """One thing an upstream can do; its value is the adapter method that does it."""

    ISSUE_ESIM = "issue_esim"
    RENEW = "renew"
    TOP_UP = "top_up"
    RECHARGE = "recharge"
    READ_USAGE = "read_usage"
    READ_CATALOG = "list_catalog"
    CANCEL = "cancel"
    CALLBACKS = "parse_callback"

    @property
    def label(self) -> str:
        """What it is in a sentence, for errors and notes (log-safe, not translated)."""
        return LABELS[self]


LABELS = {
    Capability.ISSUE_ESIM: "issuing eSIMs",
    Capability.RENEW: "renewing eSIMs",
    Capability.TOP_UP: "topping up eSIMs at our cost",
    Capability.RECHARGE: "airtime recharges",
    Capability.READ_USAGE: "usage readings",
    Capability.READ_CATALOG: "a catalog to sync",
    Capability.CANCEL: "cancelling eSIMs",
    Capability.CALLBACKS: "webhooks",
}


class IssuesEsims(ABC):
    capability = Capability.ISSUE_ESIM

    @abstractmethod
    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """A new eSIM profile with the plan (``msisdn`` set: a replacement for that line)."""


class RenewsEsims(ABC):
    capability = Capability.RENEW

    @abstractmethod
    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Add the plan to an existing eSIM."""


class TopsUpEsims(ABC):
    capability = Capability.TOP_UP

    @abstractmethod
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
        asks for other amounts. Only for upstreams that add any amount of data and validity.
        """


class RechargesNumbers(ABC):
    capability = Capability.RECHARGE

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


class ReadsUsage(ABC):
    capability = Capability.READ_USAGE

    @abstractmethod
    def read_usage(self, *, iccid: str) -> Usage:
        """Data left and expiry as the upstream sees them now."""


class ReadsCatalog(ABC):
    capability = Capability.READ_CATALOG

    @abstractmethod
    def list_catalog(self) -> list[CatalogItem]:
        """Everything the upstream sells now (for catalog sync)."""


class CancelsEsims(ABC):
    capability = Capability.CANCEL

    @abstractmethod
    def cancel(self, *, reference: str, iccid: str) -> None:
        """Cancel an unused or replaced profile."""


class SendsCallbacks(ABC):
    capability = Capability.CALLBACKS

    @abstractmethod
    def parse_callback(self, *, headers, body: bytes) -> CallbackEvent:
        """Verify and read one inbound webhook; CallbackError if it is not genuine or malformed."""


INTERFACES = {
    interface.capability: interface
    for interface in (
        IssuesEsims,
        RenewsEsims,
        TopsUpEsims,
        RechargesNumbers,
        ReadsUsage,
        ReadsCatalog,
        CancelsEsims,
        SendsCallbacks,
    )
}
