"""The payment gateway interface.

A gateway starts a payment (a redirect for the customer, or an immediate result), turns a verified
webhook event into what happened to a payment (re-reading the source where it can), and refunds.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal

# The signed-event types belong to core.signing; gateways name them as part of this interface.
from core.signing import MalformedEvent, SignatureError, VerifiedEvent  # noqa: F401


class GatewayError(Exception):
    """The gateway refused or failed a call; ``transient`` says whether a retry may help."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class PaymentStart:
    redirect_url: str = ""  # where to send the customer; empty: the result is already known
    external_reference: str = ""


REFUND_SUCCEEDED = "succeeded"
REFUND_PENDING = "pending"  # accepted, the money not back yet (e.g. Alipay, WeChat Pay)
REFUND_FAILED = "failed"  # failed or cancelled: no money went back


# A refund the gateway cannot send (no refund API for it): staff send the money from the
# gateway's merchant portal and mark it sent. Its external reference carries this marker.
STAFF_REFUND_MARK = "-staff-"


def staff_refund_reference(gateway_key: str, refund) -> str:
    """The external reference of a refund left for staff to send."""
    return f"{gateway_key}{STAFF_REFUND_MARK}{refund.idempotency_key}"


@dataclass(frozen=True)
class RefundResult:
    """What the gateway said when asked to refund: its refund id and whether the money went."""

    external_reference: str
    status: str = REFUND_SUCCEEDED  # one of the REFUND_* values
    note: str = ""  # the gateway's reason, for a failure


@dataclass(frozen=True)
class RefundInfo:
    external_reference: str
    amount: Decimal
    status: str = REFUND_SUCCEEDED  # one of the REFUND_* values
    refund_id: int | None = None  # our Refund's pk, where the gateway kept it (metadata)
    note: str = ""


@dataclass(frozen=True)
class PaymentUpdate:
    """What an event says happened to one of our payments, read from the source of truth."""

    payment_reference: str  # our Payment.external_reference (checkout session id)
    outcome: str  # one of the OUTCOME_* values
    amount: Decimal | None = None
    currency: str = ""
    refunds: list[RefundInfo] = field(default_factory=list)
    note: str = ""
    # The order number the gateway's object carries as ours (Stripe: metadata, then
    # client_reference_id); "" when it carries none. None: the gateway cannot tell, and every
    # object is taken as ours (the test gateway's events are all made here).
    order_number: str | None = None
    # The gateway's own transaction id and its status as it said it (kept on the payment for
    # staff); "" when the gateway has none to tell.
    gateway_reference: str = ""
    gateway_status: str = ""


OUTCOME_PAID = "paid"
OUTCOME_PENDING = "pending"  # completed checkout, money not there yet (async methods)
OUTCOME_FAILED = "failed"
OUTCOME_EXPIRED = "expired"  # the checkout page expired before the customer paid
OUTCOME_REFUNDED = "refunded"
OUTCOME_DISPUTED = "disputed"
OUTCOME_REFUND_UPDATED = "refund_updated"  # a refund's status changed; ``refunds`` says how
OUTCOME_IGNORED = "ignored"


class PaymentGateway(ABC):
    key: str
    # Local gateways make no network call, so their refund runs inside the refund's transaction.
    runs_locally = True

    @abstractmethod
    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        """Begin collecting ``payment``; called after the Payment row is committed."""

    def expire(self, payment) -> None:
        """Close ``payment``'s checkout at the gateway so it can no longer be paid.

        Gateways without a hosted session (manual, wallet) have nothing to close.
        """
        return None

    def verify_event(self, body: bytes, headers) -> VerifiedEvent:
        """Check a webhook's signature on the raw body and parse it."""
        raise SignatureError("This gateway does not receive webhooks.")

    def read_event(self, event: VerifiedEvent) -> PaymentUpdate:
        """Turn a verified event into a payment update, re-reading the source where possible."""
        raise NotImplementedError

    @abstractmethod
    def refund(self, refund) -> RefundResult:
        """Refund ``refund.amount`` of its payment; returns the gateway's refund id and status."""
