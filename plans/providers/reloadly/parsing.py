"""Reloadly Airtime data in our terms: pure functions, no HTTP and no database.

Money stays exact: JSON numbers are read as ``Decimal`` (``loads``) and written from ``Decimal``
digit for digit (``dumps``); PKR amounts have exactly two places; conversions to the account
currency go through ``core.money.quantize``.
"""

import json
import re
from dataclasses import dataclass, field
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    localcontext,
)

from core.money import Currency, quantize
from plans.providers.base import PermanentProviderError, RechargeResult, TransientProviderError

CENT = Decimal("0.01")
LOCAL_CURRENCY = "PKR"
SUCCESSFUL, PROCESSING, REFUNDED, FAILED = "SUCCESSFUL", "PROCESSING", "REFUNDED", "FAILED"
PROCESSING_RETRY_SECONDS = 60
NAME_ALIASES = {"mobilink": "jazz"}  # Jazz's former brand, still in some operator names
_SKU = re.compile(r"^(\d+):(\d+(?:\.\d{1,2})?)$")


class BadShape(ValueError):
    """Upstream data that does not have the documented shape."""


class AmountNotAllowed(ValueError):
    """An amount the operator does not take; the message says why, for staff and logs."""


# --- JSON and amounts ---------------------------------------------------------------------------


def loads(text):
    """Parse JSON with every fractional number as a Decimal (never a float)."""
    return json.loads(text, parse_float=Decimal)


def dumps(value) -> str:
    """JSON text in which Decimals are written exactly as their digits (``500.00``)."""
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}: {dumps(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON has no NaN or infinity")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not money: use Decimal")
    return json.dumps(value)


def decimal(value) -> Decimal | None:
    """A JSON number (int, Decimal or numeric string) as a finite Decimal; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise BadShape(f"not a number: {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise BadShape(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise BadShape(f"not a number: {value!r}")
    return result


def pkr_amount(amount) -> Decimal:
    """Our order amount as PKR with two places; AmountNotAllowed if it cannot be sent."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountNotAllowed(f"the amount must be a decimal number, not {amount!r}")
    if amount <= 0:
        raise AmountNotAllowed(f"the amount must be positive, not {amount}")
    exact = amount.quantize(CENT)
    if exact != amount:
        raise AmountNotAllowed(f"PKR {amount} has fractions of a paisa")
    return exact


def amount_text(amount: Decimal) -> str:
    """``100`` for whole rupees, else ``150.50``: how amounts appear in SKUs and messages."""
    exact = amount.quantize(CENT)
    return str(int(exact)) if exact == exact.to_integral_value() else format(exact, "f")


def parse_sku(sku: str) -> tuple[int, Decimal] | None:
    """``<operatorId>:<amount>`` (what ``list_catalog`` makes) as its parts; None otherwise."""
    match = _SKU.match(sku or "")
    return (int(match[1]), Decimal(match[2])) if match else None


# --- Operators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorInfo:
    id: int
    name: str
    denomination: str  # FIXED or RANGE
    supports_local: bool
    local_currency: str  # destinationCurrencyCode
    sender_currency: str  # our Reloadly account's currency
    fx_rate: Decimal | None  # local units per sender unit
    local_fixed: tuple[Decimal, ...] = ()
    local_descriptions: dict = field(default_factory=dict)
    local_min: Decimal | None = None
    local_max: Decimal | None = None
    min_amount: Decimal | None = None  # sender currency
    max_amount: Decimal | None = None
    airtime: bool = True  # not a data, bundle or PIN product


def parse_operator(data) -> OperatorInfo:
    """One operator as ``/operators/…`` endpoints return it."""
    if not isinstance(data, dict):
        raise BadShape("an operator is not an object")
    operator_id = data.get("operatorId", data.get("id"))
    if isinstance(operator_id, bool) or not isinstance(operator_id, int):
        raise BadShape("an operator has no operatorId")
    local_currency = str(data.get("destinationCurrencyCode") or "")
    fx = data.get("fx") if isinstance(data.get("fx"), dict) else {}
    rate = decimal(fx.get("rate"))
    if rate is not None and (rate <= 0 or fx.get("currencyCode") not in (None, local_currency)):
        rate = None
    descriptions = data.get("localFixedAmountsDescriptions")
    return OperatorInfo(
        id=operator_id,
        name=str(data.get("name") or f"operator {operator_id}"),
        denomination=str(data.get("denominationType") or "").upper(),
        supports_local=data.get("supportsLocalAmounts") is True,
        local_currency=local_currency,
        sender_currency=str(data.get("senderCurrencyCode") or ""),
        fx_rate=rate,
        local_fixed=tuple(
            sorted({decimal(a).quantize(CENT) for a in data.get("localFixedAmounts") or []})
        ),
        local_descriptions={
            decimal(k).quantize(CENT): str(v)
            for k, v in (descriptions.items() if isinstance(descriptions, dict) else ())
            if v
        },
        local_min=decimal(data.get("localMinAmount")),
        local_max=decimal(data.get("localMaxAmount")),
        min_amount=decimal(data.get("minAmount")),
        max_amount=decimal(data.get("maxAmount")),
        airtime=not any(data.get(flag) is True for flag in ("data", "bundle", "pin")),
    )


def local_range(operator: OperatorInfo) -> tuple[Decimal, Decimal] | None:
    """A RANGE operator's PKR bounds: its local ones, else its account-currency bounds times the
    rate, rounded inwards to the paisa (so every amount inside is inside the true range)."""
    if operator.local_min is not None and operator.local_max is not None:
        return operator.local_min, operator.local_max
    if None in (operator.min_amount, operator.max_amount, operator.fx_rate):
        return None
    low = (operator.min_amount * operator.fx_rate).quantize(CENT, rounding=ROUND_CEILING)
    high = (operator.max_amount * operator.fx_rate).quantize(CENT, rounding=ROUND_FLOOR)
    return (low, high) if low <= high else None


def check_amount(operator: OperatorInfo, amount: Decimal) -> None:
    """AmountNotAllowed unless the operator takes exactly ``amount`` PKR as a local amount."""
    shown = f"PKR {amount_text(amount)}"
    if operator.local_currency != LOCAL_CURRENCY:
        raise AmountNotAllowed(f"{operator.name} is paid in {operator.local_currency}, not PKR")
    if not operator.supports_local:
        raise AmountNotAllowed(f"{operator.name} does not take amounts in PKR")
    if operator.denomination == "FIXED":
        if amount not in operator.local_fixed:
            listed = ", ".join(amount_text(a) for a in operator.local_fixed[:12]) or "none"
            raise AmountNotAllowed(
                f"{shown} is not a denomination of {operator.name} (PKR {listed})"
            )
        return
    if operator.denomination == "RANGE":
        bounds = local_range(operator)
        if bounds is None:
            raise AmountNotAllowed(f"{operator.name} publishes no PKR range")
        low, high = bounds
        if not low <= amount <= high:
            raise AmountNotAllowed(
                f"{shown} is outside what {operator.name} takes "
                f"(PKR {amount_text(low)} to {amount_text(high)})"
            )
        return
    raise AmountNotAllowed(f"{operator.name} has an unknown denomination type")


def sender_cost(operator: OperatorInfo, local: Decimal) -> tuple[Decimal, str]:
    """What ``local`` PKR costs in our account currency at the operator's rate (before any
    discount), to the cent; the PKR amount itself when there is no usable rate."""
    currency = operator.sender_currency
    if currency == LOCAL_CURRENCY or operator.fx_rate is None or currency not in Currency.values:
        return quantize(local, LOCAL_CURRENCY), LOCAL_CURRENCY
    with localcontext() as context:
        context.prec = 40
        return quantize(local / operator.fx_rate, currency), currency


def our_code_by_name(name: str, ours: dict[str, str]) -> str:
    """Our operator code whose code or name is a word of the Reloadly operator's name (Jazz,
    Zong, Telenor, Ufone; Mobilink is Jazz); "" unless exactly one matches."""
    lowered = name.lower()

    def said(term: str) -> bool:
        return bool(term) and re.search(rf"\b{re.escape(term.lower())}\b", lowered) is not None

    hits = {code for code, our_name in ours.items() if said(code) or said(our_name)}
    hits |= {code for alias, code in NAME_ALIASES.items() if code in ours and said(alias)}
    return hits.pop() if len(hits) == 1 else ""


# --- Top-ups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topup:
    transaction_id: int
    status: str
    custom_identifier: str = ""
    operator_transaction_id: str = ""
    delivered_amount: Decimal | None = None
    delivered_currency: str = ""


def parse_topup(data) -> Topup:
    """A top-up from ``POST /topups``, the reports, or ``/topups/{id}/status`` (which wraps it
    as ``{code, message, status, transaction}``)."""
    if not isinstance(data, dict):
        raise BadShape("a top-up is not an object")
    status = data.get("status")
    if isinstance(data.get("transaction"), dict):
        data = data["transaction"]
    transaction_id = data.get("transactionId")
    if isinstance(transaction_id, bool) or not isinstance(transaction_id, int):
        raise BadShape("a top-up has no transactionId")
    status = str(status or data.get("status") or "").upper()
    if not status:
        raise BadShape("a top-up has no status")
    return Topup(
        transaction_id=transaction_id,
        status=status,
        custom_identifier=str(data.get("customIdentifier") or ""),
        operator_transaction_id=str(data.get("operatorTransactionId") or ""),
        delivered_amount=decimal(data.get("deliveredAmount")),
        delivered_currency=str(data.get("deliveredAmountCurrencyCode") or ""),
    )


def matching_topups(data, reference: str) -> list[Topup]:
    """The reports' top-ups whose customIdentifier is exactly ``reference``, newest first."""
    rows = data.get("content") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise BadShape("the transactions report has no content list")
    found = [parse_topup(row) for row in rows if isinstance(row, dict)]
    return sorted(
        (t for t in found if t.custom_identifier == reference),
        key=lambda t: t.transaction_id,
        reverse=True,
    )


def recharge_result(topup: Topup) -> RechargeResult:
    """SUCCESSFUL: the result; PROCESSING: transient (ask again later); REFUNDED and FAILED:
    permanent (the reference is spent; Reloadly charged nothing or refunded it)."""
    label = f"transaction {topup.transaction_id}"
    if topup.status == SUCCESSFUL:
        if topup.delivered_amount is None or not topup.delivered_currency:
            raise BadShape(f"{label} is SUCCESSFUL without the delivered amount")
        return RechargeResult(
            upstream_reference=str(topup.transaction_id),
            delivered_amount=exact_money(topup.delivered_amount, topup.delivered_currency),
            currency=topup.delivered_currency,
            operator_reference=topup.operator_transaction_id,
        )
    if topup.status == PROCESSING:
        raise TransientProviderError(
            f"reloadly: recharge processing ({label})", retry_after=PROCESSING_RETRY_SECONDS
        )
    if topup.status == REFUNDED:
        raise PermanentProviderError(f"reloadly: recharge refunded by the operator ({label})")
    if topup.status == FAILED:
        raise PermanentProviderError(f"reloadly: recharge failed, nothing charged ({label})")
    raise BadShape(f"{label} has an unknown status {topup.status!r}")


def exact_money(amount: Decimal, currency: str) -> Decimal:
    """Two places, half up: our money helper for our currencies, the same rule for others."""
    if currency in Currency.values:
        return quantize(amount, currency)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
