"""Reading Airalo Partner API v2 answers and webhooks into our provider types (no HTTP here).

Shapes follow Airalo's published partner docs: every answer wraps its content in ``data``
(a list, or on ``/v2/packages`` pages 2+ an object keyed by position); packages carry ``amount``
in MB (0 when unlimited), ``day`` and ``net_price`` in USD; an order carries ``sims[]`` with
``lpa`` (the SM-DP+ address) and ``matching_id``; usage is in MB with ``expired_at`` as
``Y-m-d H:i:s`` in UTC.
"""

import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from core.validators import validate_e164, validate_iccid
from plans.models import PlanKind
from plans.providers.base import (
    CallbackError,
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    PermanentProviderError,
    RenewalResult,
    Usage,
)
from plans.providers.http import BadResponse

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "airalo-signature"
COST_CURRENCY = "USD"
# Airalo's eSIM statuses onto ours. FINISHED: the data is used up but the eSIM lives on (it can
# be topped up), so it stays active with nothing left; an ended validity shows as EXPIRED.
USAGE_STATUSES = {
    "NOT_ACTIVE": "issued",
    "ACTIVE": "active",
    "FINISHED": "active",
    "EXPIRED": "expired",
    "UNKNOWN": "issued",
}
KIND_FOR_PACKAGE_TYPE = {"sim": PlanKind.ESIM, "topup": PlanKind.RENEWAL}
DATA_LABEL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(MB|GB|TB)\s*$", re.IGNORECASE)
UNIT_MB = {"MB": 1, "GB": 1024, "TB": 1024 * 1024}


# --- envelopes -------------------------------------------------------------------------------


def data_of(body, operation: str):
    """The ``data`` member of an answer; BadResponse if the envelope is not there."""
    if not isinstance(body, dict) or "data" not in body:
        raise BadResponse(f"{operation}: the answer has no data")
    return body["data"]


def records(data, operation: str) -> list[dict]:
    """A list endpoint's items: ``data`` as a list, or as an object keyed by position."""
    if isinstance(data, dict):
        data = [data[key] for key in sorted(data, key=_position)]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise BadResponse(f"{operation}: the list in the answer is malformed")
    return data


def has_next_page(body: dict, page: int) -> bool:
    """Whether a paginated answer says there is a page after ``page``."""
    links = body.get("links") if isinstance(body.get("links"), dict) else {}
    if links.get("next"):
        return True
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    last = _int_or_none(meta.get("last_page"))
    return last is not None and page < last


def _position(key) -> tuple[int, str]:
    text = str(key)
    return (int(text), "") if text.isdigit() else (1 << 62, text)


# --- catalog ---------------------------------------------------------------------------------


def catalog_items(countries: list[dict], operator_map: dict) -> list[CatalogItem]:
    """Every package under ``countries[].operators[].packages[]`` as a CatalogItem, once per SKU.

    A package without a readable price, validity or SKU is left out (and logged): a catalog sync
    should not stop on one odd entry.
    """
    items: dict[str, CatalogItem] = {}
    lookup = _operator_lookup(operator_map)
    for country in countries:
        for operator in _dicts(country.get("operators")):
            operator_title = str(operator.get("title") or "").strip()
            code = lookup(operator_title)
            for package in _dicts(operator.get("packages")):
                item = _catalog_item(package, operator_title, code)
                if item is not None and item.sku not in items:
                    items[item.sku] = item
    return list(items.values())


def _catalog_item(package: dict, operator_title: str, operator_code: str) -> CatalogItem | None:
    sku = package.get("id")
    kind = KIND_FOR_PACKAGE_TYPE.get(package.get("type") or "sim")
    cost = _net_price(package)
    validity = _int_or_none(package.get("day"))
    if not isinstance(sku, str) or not sku or kind is None or cost is None or validity is None:
        logger.warning("airalo catalog: package %r left out (unreadable)", sku)
        return None
    unlimited = package.get("is_unlimited") is True
    title = str(package.get("title") or sku).strip()
    name = f"{operator_title} {title}".strip() if operator_title else title
    return CatalogItem(
        sku=sku,
        name=name[:150],
        kind=kind,
        operator_code=operator_code,
        cost=cost,
        cost_currency=COST_CURRENCY,
        validity_days=validity,
        data_mb=None if unlimited else package_megabytes(package),
        data_unlimited=unlimited,
        minutes=_count(package.get("voice")),
        sms=_count(package.get("text")),
    )


def package_megabytes(package: dict) -> int | None:
    """A package's data in MB: ``amount``, else its ``data`` label ("1 GB"); None if neither."""
    if package.get("is_unlimited") is True:
        return None
    amount = _int_or_none(package.get("amount"))
    if amount is not None and amount > 0:
        return amount
    return megabytes_from_label(package.get("data"))


def megabytes_from_label(label) -> int | None:
    """ "500 MB" → 500, "1 GB" → 1024, "1.5 GB" → 1536; anything else (e.g. "Unlimited") → None."""
    match = DATA_LABEL.match(label) if isinstance(label, str) else None
    if match is None:
        return None
    return int(Decimal(match.group(1)) * UNIT_MB[match.group(2).upper()])


def _net_price(package: dict) -> Decimal | None:
    value = package.get("net_price")
    if isinstance(value, dict):  # the multi-currency form
        value = value.get(COST_CURRENCY)
    if value is None and isinstance(package.get("prices"), dict):
        net = package["prices"].get("net_price")
        value = net.get(COST_CURRENCY) if isinstance(net, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        return None
    return cost if cost.is_finite() and cost >= 0 else None


def _operator_lookup(operator_map: dict):
    """Airalo operator title → our operator code: exact title first, then ignoring case."""
    exact = {str(k).strip(): str(v) for k, v in (operator_map or {}).items()}
    folded = {k.casefold(): v for k, v in exact.items()}
    return lambda title: exact.get(title) or folded.get(title.casefold(), "")


# --- orders ----------------------------------------------------------------------------------


def issued_profile(order: dict, operation: str) -> IssuedProfile:
    """The one eSIM of an order (ours always have quantity 1) as an IssuedProfile."""
    sims = _dicts(order.get("sims"))
    if len(sims) != 1:
        raise BadResponse(f"{operation}: expected one eSIM in the order, got {len(sims)}")
    sim = sims[0]
    iccid = str(sim.get("iccid") or "")
    try:
        validate_iccid(iccid)
    except ValidationError:
        raise PermanentProviderError(
            f"{operation}: Airalo order {order_reference(order)} returned an ICCID that fails "
            f"the ICCID check (…{iccid[-4:]}); the eSIM was bought, staff must resolve it"
        ) from None
    return IssuedProfile(
        iccid=iccid,
        activation_code=activation_code(sim, operation),
        upstream_reference=order_reference(order),
        confirmation_code=_text(sim.get("confirmation_code")),
        msisdn=_msisdn(sim.get("msisdn")),
        data_total_mb=megabytes_from_label(order.get("data")),
        expires_at=None,  # Airalo's validity starts at first use
    )


def activation_code(sim: dict, operation: str) -> str:
    """``LPA:1$<lpa>$<matching_id>``, else the ``qrcode`` string when it has that form."""
    lpa, matching_id = _text(sim.get("lpa")), _text(sim.get("matching_id"))
    if lpa and matching_id:
        return f"LPA:1${lpa}${matching_id}"
    qrcode = _text(sim.get("qrcode"))
    if qrcode.startswith("LPA:1$") and len(qrcode.split("$")) >= 3:
        return qrcode
    raise BadResponse(f"{operation}: the eSIM has no activation code")


def order_reference(order: dict) -> str:
    """Airalo's order id (as text), else its order code; BadResponse if it has neither."""
    for key in ("id", "code"):
        value = order.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
            return str(value)
    raise BadResponse("order: the answer has no order id")


def order_status(order: dict) -> str:
    """The order's status slug when listed with ``include=status`` ("" if not given)."""
    status = order.get("status")
    if isinstance(status, dict):
        status = status.get("slug") or status.get("name")
    return str(status or "").strip().lower()


def order_iccids(order: dict) -> set[str]:
    return {str(sim.get("iccid")) for sim in _dicts(order.get("sims")) if sim.get("iccid")}


def renewal_result(order: dict, package: dict | None) -> RenewalResult:
    """A top-up order as a RenewalResult (data from the top-up package when we have it)."""
    if package is not None:
        added = package_megabytes(package)
    else:
        added = megabytes_from_label(order.get("data"))
    return RenewalResult(upstream_reference=order_reference(order), data_added_mb=added)


# --- usage -----------------------------------------------------------------------------------


def usage(data, now: datetime) -> Usage:
    """``/v2/sims/{iccid}/usage`` data as a Usage (unlimited: no totals)."""
    if not isinstance(data, dict):
        raise BadResponse("usage: the answer is malformed")
    status = str(data.get("status") or "UNKNOWN").strip().upper()
    if data.get("is_unlimited") is True:
        total = remaining = None
    else:
        total = _megabytes(data.get("total"))
        remaining = _megabytes(data.get("remaining"))
        if total is None or remaining is None:
            raise BadResponse("usage: total and remaining are not numbers")
        if status == "FINISHED":
            remaining = 0
    try:
        expires_at = parse_time(data.get("expired_at"))
    except ValueError as exc:
        raise BadResponse("usage: expired_at is not a time") from exc
    return Usage(
        data_total_mb=total,
        data_remaining_mb=None if remaining is None else max(min(remaining, total), 0),
        expires_at=expires_at,
        status=USAGE_STATUSES.get(status, "issued"),
        as_of=now,
    )


def parse_time(value) -> datetime | None:
    """Airalo's ``Y-m-d H:i:s`` (UTC) or ISO 8601 with an offset; None for empty values."""
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- webhooks --------------------------------------------------------------------------------


def signature_candidates(body: bytes, secret: str) -> list[str]:
    """The HMAC-SHA512 hex digests a genuine ``airalo-signature`` may carry for ``body``.

    Airalo's docs: HMAC-SHA512 of the JSON payload keyed with the partner's API secret. Its own
    SDKs verify over the payload re-encoded compactly (PHP ``json_encode``: slashes escaped,
    non-ASCII as ``\\uXXXX``; the Python SDK keeps non-ASCII), so the raw bytes and those two
    encodings are accepted.
    """
    messages = [body]
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if payload is not None:
        for ensure_ascii in (True, False):
            text = json.dumps(payload, separators=(",", ":"), ensure_ascii=ensure_ascii)
            messages.append(text.replace("/", "\\/").encode())
    key = secret.encode()
    digests = []
    for message in messages:
        digest = hmac.new(key, message, hashlib.sha512).hexdigest()
        if digest not in digests:
            digests.append(digest)
    return digests


def verify_signature(headers, body: bytes, secret: str) -> None:
    """CallbackError("invalid_signature") unless the header matches one candidate digest."""
    given = (header(headers, SIGNATURE_HEADER) or "").strip().lower()
    if not given:
        raise CallbackError("invalid_signature", f"The {SIGNATURE_HEADER} header is missing.")
    if not secret:
        raise CallbackError("invalid_signature", "No secret is configured to check signatures.")
    matched = False
    for candidate in signature_candidates(body, secret):  # compare with all: no early exit
        matched |= hmac.compare_digest(candidate.encode(), given.encode())
    if not matched:
        raise CallbackError("invalid_signature", "The signature does not match the body.")


def header(headers, name: str) -> str | None:
    """A header by name, whatever its case (Django's headers or a plain dict)."""
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and hasattr(headers, "items"):
        value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return value


def callback_event(body: bytes, now: datetime) -> CallbackEvent:
    """A verified webhook body as a CallbackEvent; CallbackError("invalid_callback") if malformed.

    Low-data notifications (``iccid`` with ``level``/``remaining_percentage``, or ``event`` =
    "low_data_notification"), credit-limit notifications (``message`` + ``remaining`` credit) and
    async-order results (``request_id``) are understood. Only a notification that states data in
    MB (``remaining`` and ``total``) yields a Usage; Airalo's low-data alert gives a percentage,
    so it is recorded without one.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise _invalid("The body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise _invalid("The body is not a JSON object.")
    event_type = _event_type(payload)
    iccid = payload.get("iccid")
    if event_type == "low_data_notification":
        if not isinstance(iccid, str | int) or not str(iccid).isdigit():
            raise _invalid("A low-data notification needs an ICCID of digits.")
        percentage = payload.get("remaining_percentage")
        if percentage is not None and not _is_number(percentage):
            raise _invalid("remaining_percentage must be a number.")
        if "level" in payload and not isinstance(payload["level"], str | int):
            raise _invalid("level must be text.")
    iccid = str(iccid) if isinstance(iccid, str | int) and str(iccid).isdigit() else ""
    if event_type == "async_order" and not iccid:
        found = sorted(order_iccids(payload))
        iccid = found[0] if len(found) == 1 else ""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    event_id = f"{event_type}:{hashlib.sha256(canonical).hexdigest()[:40]}"
    reading = _callback_usage(payload, now) if event_type == "low_data_notification" else None
    return CallbackEvent(event_id, event_type, iccid, payload, reading)


def _event_type(payload: dict) -> str:
    event = payload.get("event")
    if isinstance(event, str) and event.strip():
        return event.strip()[:100]
    if payload.get("iccid") is not None and (
        "level" in payload or "remaining_percentage" in payload
    ):
        return "low_data_notification"
    if "request_id" in payload:
        return "async_order"
    if "message" in payload and "remaining" in payload and "iccid" not in payload:
        return "credit_limit_notification"
    raise _invalid("Not a notification Airalo sends (low data, credit limit or async order).")


def _callback_usage(payload: dict, now: datetime) -> Usage | None:
    total, remaining = payload.get("total"), payload.get("remaining")
    if not (_is_count(total) and _is_count(remaining)):
        return None
    try:
        expires_at = parse_time(payload.get("expired_at"))
    except ValueError as exc:
        raise _invalid("expired_at is not a time.") from exc
    return Usage(
        data_total_mb=total,
        data_remaining_mb=min(remaining, total),
        expires_at=expires_at,
        status="active",
        as_of=now,
    )


def _invalid(detail: str) -> CallbackError:
    return CallbackError("invalid_callback", detail)


# --- small readers ---------------------------------------------------------------------------


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _int_or_none(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _megabytes(value) -> int | None:
    """A non-negative MB figure, whole or fractional (rounded down); None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return int(number) if number.is_finite() and number >= 0 else None


def _count(value) -> int | None:
    number = _int_or_none(value)
    return number if number is not None and number > 0 else None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _msisdn(value) -> str:
    """The eSIM's number in E.164 form, or "" (data-only eSIMs have none)."""
    text = re.sub(r"[\s-]", "", _text(value) if not isinstance(value, int) else str(value))
    if not text:
        return ""
    text = text if text.startswith("+") else "+" + text
    try:
        validate_e164(text)
    except ValidationError:
        logger.warning("airalo: an eSIM number that is not E.164 was left out")
        return ""
    return text
