"""eSIM Access open API v1: units, request signing, the response envelope and payload mapping.

Pure functions (no HTTP, no database) used by ``plans.providers.esimaccess.adapter``.

Units (the API's conventions, docs.esimaccess.com "Standards"):

* Money is an integer number of 1/10 000 USD (``10000`` = $1.00). ``units_to_usd`` is exact
  (a Decimal with four places); ``usd_to_units`` refuses amounts that are not whole units.
* Data is in bytes. **1 MB here is 1 MiB = 1024 * 1024 bytes**, the unit eSIM Access sells in
  (a "1GB" package is ``volume`` 1073741824). ``mb_to_bytes`` is exact; ``bytes_to_mb`` rounds
  *down*, so we never promise more data than the upstream gives, and
  ``bytes_to_mb(mb_to_bytes(n)) == n`` for every whole number of MB. Remaining data is computed in
  bytes (``total - used``) and converted once, so it is never above the converted total.
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime
from decimal import Decimal

from plans.models import PlanKind
from plans.providers.base import (
    CallbackError,
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    PermanentProviderError,
    TransientProviderError,
    Usage,
)
from plans.providers.http import BadResponse

logger = logging.getLogger(__name__)

BYTES_PER_MB = 1024 * 1024
UNITS_PER_USD = 10_000
_UNIT = Decimal("0.0001")

# The response envelope's error codes (docs.esimaccess.com, "Error Codes"), by whether a retry
# can help. Anything not listed is permanent.
PROFILE_NOT_READY = "200010"  # "Profile is being downloaded for the order": still allocating
TRANSIENT_CODES = {
    "000001": "server error",
    "101001": "request timestamp expired",  # clock skew; the retry is signed afresh
    PROFILE_NOT_READY: "profile not ready",
    "900001": "system busy",
}
PERMANENT_CODES = {
    "000101": "mandatory request header missing",
    "000102": "wrong request header format",
    "000103": "HTTP method not supported",
    "000104": "request is not valid JSON",
    "000105": "mandatory request parameter missing",
    "000106": "mandatory request parameter is null",
    "000107": "request parameter has the wrong length",
    "101002": "our IP is on the blocklist",
    "101003": "request signature mismatch (check the access code and secret key)",
    "200002": "operation not allowed in the order's status",
    "200005": "package price mismatch (re-sync the catalog)",
    "200006": "order amount mismatch (re-sync the catalog)",
    "200007": "insufficient account balance",
    "200008": "order parameter error",
    "200009": "abnormal order status",
    "200011": "not enough profiles in stock for the package",
    "310201": "bundle code does not exist",
    "310211": "data plan location does not exist",
    "310221": "currency does not exist",
    "310231": "carrier does not exist",
    "310241": "packageCode does not exist",
    "310243": "package does not exist",
    "310251": "vendor does not exist",
    "310272": "orderNo does not exist",
    "310403": "ICCID is not in the order",
}

# ``esimStatus`` → our Usage.status. USED_UP (data gone, validity left, can be topped up) stays
# active. GOT_RESOURCE is "issued" even once installed: validity starts with first use.
ESIM_STATUSES = {
    "GOT_RESOURCE": "issued",
    "IN_USE": "active",
    "USED_UP": "active",
    "SUSPENDED": "active",
    "USED_EXPIRED": "expired",
    "UNUSED_EXPIRED": "expired",
    "CANCEL": "cancelled",
    "REVOKED": "cancelled",
}
DEAD_STATUSES = {"CANCEL", "REVOKED"}
EXPIRED_STATUSES = {"USED_EXPIRED", "UNUSED_EXPIRED"}
DURATION_UNIT_DAYS = {"DAY": 1}
DAILY_LIMIT = 2  # ``dataType`` 2: a day pass (volume per day, days chosen at order time)


class EsimAccessTransient(TransientProviderError):
    """A ``success: false`` answer that a later retry may not get (``code``: theirs)."""

    def __init__(self, summary: str, *, code: str):
        super().__init__(summary)
        self.code = code


class EsimAccessRefused(PermanentProviderError):
    """A ``success: false`` answer that retrying will not change (``code``: theirs)."""

    def __init__(self, summary: str, *, code: str):
        super().__init__(summary)
        self.code = code


# --- units -----------------------------------------------------------------------------------


def units_to_usd(units: int) -> Decimal:
    """1/10 000 USD (an integer) as an exact Decimal of dollars with four places."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise ValueError(f"price must be an integer, not {units!r}")
    return Decimal(units).scaleb(-4).quantize(_UNIT)


def usd_to_units(amount: Decimal) -> int:
    """Dollars as 1/10 000 USD; ValueError if the amount has a finer fraction than that."""
    units = Decimal(amount) * UNITS_PER_USD
    if units != units.to_integral_value():
        raise ValueError(f"{amount} USD is not a whole number of 1/10000 USD")
    return int(units)


def bytes_to_mb(size: int) -> int:
    """Bytes as whole MiB, rounded down."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"a byte count must be a non-negative integer, not {size!r}")
    return size // BYTES_PER_MB


def mb_to_bytes(mb: int) -> int:
    """Whole MiB as bytes (exact)."""
    if isinstance(mb, bool) or not isinstance(mb, int) or mb < 0:
        raise ValueError(f"MB must be a non-negative integer, not {mb!r}")
    return mb * BYTES_PER_MB


# --- signing and the envelope -----------------------------------------------------------------


def signature(timestamp: str, request_id: str, access_code: str, body: str, secret: str) -> str:
    """``RT-Signature``: HMAC-SHA256 over timestamp + request id + access code + raw body, keyed
    with the secret key, as lowercase hex (the docs' pseudo-code lowercases; their worked
    example prints the same digest in capitals)."""
    message = f"{timestamp}{request_id}{access_code}{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def unwrap(data, operation: str):
    """The ``obj`` of a successful envelope; the mapped ProviderError otherwise."""
    if not isinstance(data, dict) or "success" not in data:
        raise BadResponse(f"{operation}: the answer is not an eSIM Access envelope")
    if data["success"] is True or str(data["success"]).lower() == "true":
        return data.get("obj")
    code = str(data.get("errorCode") or "").strip() or "unknown"
    if code in TRANSIENT_CODES:
        return _raise(EsimAccessTransient, operation, code, TRANSIENT_CODES[code])
    if code in PERMANENT_CODES:
        return _raise(EsimAccessRefused, operation, code, PERMANENT_CODES[code])
    message = data.get("errorMsg") or data.get("errorMessage") or "no message"
    return _raise(EsimAccessRefused, operation, code, f"unknown error: {str(message)[:120]}")


def _raise(error_class, operation: str, code: str, description: str):
    raise error_class(f"{operation}: {code} {description}", code=code)


# --- profiles (``esimList`` records) ---------------------------------------------------------


def esim_list(obj, operation: str) -> list[dict]:
    """The ``esimList`` of an ``esim/query`` answer (empty if none)."""
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise BadResponse(f"{operation}: obj is not an object")
    records = obj.get("esimList") or []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadResponse(f"{operation}: esimList is not a list of profiles")
    return records


def is_ready(record: dict) -> bool:
    """Allocated: it has an ICCID and an ``LPA:1$…`` activation code."""
    ac = record.get("ac")
    return bool(record.get("iccid")) and isinstance(ac, str) and ac.startswith("LPA:1$")


def latest(records: list[dict]) -> dict | None:
    """The newest record (ICCIDs are reused; ``esimTranNo`` grows with time)."""
    return max(records, key=_tran_no_key, default=None)


def for_transaction(records: list[dict], transaction_id: str) -> dict | None:
    """The newest record ordered with our ``transactionId``."""
    return latest([r for r in records if r.get("transactionId") == transaction_id])


def _tran_no_key(record: dict) -> tuple[int, str]:
    tran_no = str(record.get("esimTranNo") or "")
    return (int(tran_no) if tran_no.isdigit() else -1, tran_no)


def issued_profile(record: dict, order_no: str) -> IssuedProfile:
    """Our IssuedProfile for an allocated record (expiry None: validity starts at first use)."""
    if record.get("esimStatus") in DEAD_STATUSES:
        raise PermanentProviderError("esimaccess: the order's profile was cancelled upstream")
    total = _byte_count(record.get("totalVolume"), "totalVolume", "esim.query")
    return IssuedProfile(
        iccid=str(record["iccid"]),
        activation_code=record["ac"],
        upstream_reference=str(record.get("orderNo") or order_no),
        msisdn=str(record.get("msisdn") or ""),
        data_total_mb=None if total is None else bytes_to_mb(total),
        expires_at=None,
    )


def usage_status(record: dict, used: int, expires_at: datetime | None, now: datetime) -> str:
    """Our status for a record; unknown ``esimStatus`` values fall back on usage and expiry."""
    status = ESIM_STATUSES.get(str(record.get("esimStatus") or ""))
    if status is not None:
        return status
    logger.warning("esimaccess: unknown esimStatus %r", record.get("esimStatus"))
    if expires_at is not None and used > 0 and expires_at <= now:
        return "expired"
    return "active" if used > 0 else "issued"


def usage(record: dict, now: datetime) -> Usage:
    """A Usage reading from an ``esimList`` record, as of ``now``.

    ``expiredTime`` of a profile not yet in use is its install-by date, not the plan's expiry,
    so it is only reported once the profile is in use.
    """
    total = _byte_count(record.get("totalVolume"), "totalVolume", "esim.query")
    used = _byte_count(record.get("orderUsage"), "orderUsage", "esim.query") or 0
    expires_at = parse_time(record.get("expiredTime"), "expiredTime", "esim.query")
    status = usage_status(record, used, expires_at, now)
    return Usage(
        data_total_mb=None if total is None else bytes_to_mb(total),
        data_remaining_mb=None if total is None else bytes_to_mb(max(total - used, 0)),
        expires_at=None if status == "issued" else expires_at,
        status=status,
        as_of=now,
    )


def parse_time(value, name: str, operation: str) -> datetime | None:
    """An eSIM Access time (``2026-09-28T09:47:00+0000``, ``…Z`` or ``…+00:00``), or None."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
            except ValueError:
                parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise BadResponse(f"{operation}: {name} is not a time with a UTC offset")


def _byte_count(value, name: str, operation: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadResponse(f"{operation}: {name} is not a byte count")
    return value


# --- catalog ---------------------------------------------------------------------------------


def catalog_item(
    package: dict, *, kind: str, location: str, operator_map: dict, sku_field: str
) -> CatalogItem | None:
    """A package as a CatalogItem, or None for packages our plans cannot express (day passes,
    durations not in days, no price)."""
    sku = package.get(sku_field) or package.get("packageCode")
    if not sku:
        return _skip(package, "no package code")
    if package.get("dataType") == DAILY_LIMIT:
        return _skip(package, "daily-limit package")
    days_per_unit = DURATION_UNIT_DAYS.get(str(package.get("durationUnit") or "DAY").upper())
    duration = package.get("duration")
    if days_per_unit is None or isinstance(duration, bool) or not isinstance(duration, int):
        return _skip(package, "duration not in days")
    try:
        cost = units_to_usd(package.get("price"))
    except ValueError:
        return _skip(package, "no integer price")
    volume = _byte_count(package.get("volume"), "volume", "package.list")
    return CatalogItem(
        sku=str(sku),
        name=str(package.get("name") or sku),
        kind=kind,
        operator_code=operator_code(package, location, operator_map),
        cost=cost,
        cost_currency=str(package.get("currencyCode") or "USD"),
        validity_days=duration * days_per_unit,
        data_mb=bytes_to_mb(volume) if volume else None,
    )


def operator_code(package: dict, location: str, operator_map: dict) -> str:
    """Our Operator.code for the package's networks in ``location``: the one code its operators
    map to through ``operator_map`` (names matched case-insensitively); "" when none maps, or
    when they map to more than one of our operators."""
    mapping = {str(k).strip().casefold(): v for k, v in (operator_map or {}).items()}
    codes = []
    for network in package.get("locationNetworkList") or []:
        if not isinstance(network, dict) or network.get("locationCode") not in (None, location):
            continue
        for operator in network.get("operatorList") or []:
            name = str((operator or {}).get("operatorName") or "").strip().casefold()
            code = mapping.get(name)
            if code and code not in codes:
                codes.append(code)
    return codes[0] if len(codes) == 1 else ""


def _skip(package: dict, reason: str) -> None:
    logger.info("esimaccess catalog: skipped %s (%s)", package.get("packageCode"), reason)
    return None


# --- webhooks ----------------------------------------------------------------------------------


def callback_event(body: bytes, now: datetime) -> CallbackEvent:
    """Read one (already authenticated) notification; CallbackError if malformed.

    DATA_USAGE carries a reading and becomes a Usage; the others (ORDER_STATUS, ESIM_STATUS,
    SMDP_EVENT, VALIDITY_USAGE, CHECK_HEALTH…) carry no data totals and are only recorded. The
    event id is ``notifyId``, else a hash of the body's canonical JSON.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise _invalid("Body is not JSON.") from exc
    if not isinstance(payload, dict):
        raise _invalid("Body is not a JSON object.")
    notify_type, content = payload.get("notifyType"), payload.get("content")
    if not isinstance(notify_type, str) or not notify_type or not isinstance(content, dict):
        raise _invalid("notifyType and content are required.")
    iccid = content.get("iccid") or content.get("ICCID") or ""
    if not isinstance(iccid, str):
        raise _invalid("iccid must be a string.")
    notify_id = payload.get("notifyId")
    if isinstance(notify_id, str) and notify_id:
        event_id = notify_id
    else:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        event_id = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    reading = _data_usage(payload, content, iccid, now) if notify_type == "DATA_USAGE" else None
    return CallbackEvent(event_id[:200], notify_type, iccid, payload, reading)


def _data_usage(payload: dict, content: dict, iccid: str, now: datetime) -> Usage:
    if not iccid:
        raise _invalid("DATA_USAGE needs an iccid.")
    try:
        total = _byte_count(content.get("totalVolume"), "totalVolume", "callback")
        used = _byte_count(content.get("orderUsage"), "orderUsage", "callback")
        as_of = parse_time(content.get("lastUpdateTime"), "lastUpdateTime", "callback")
        generated = parse_time(payload.get("eventGenerateTime"), "eventGenerateTime", "callback")
    except BadResponse as exc:
        raise _invalid(exc.summary.removeprefix("callback: ") + ".") from exc
    if total is None or used is None:
        raise _invalid("DATA_USAGE needs totalVolume and orderUsage.")
    return Usage(
        data_total_mb=bytes_to_mb(total),
        data_remaining_mb=bytes_to_mb(max(total - used, 0)),
        expires_at=None,
        status="active",
        as_of=as_of or generated or now,
    )


def _invalid(detail: str) -> CallbackError:
    return CallbackError("invalid_callback", detail)


def kind_for(package_type: str) -> str:
    """Our plan kind for a package list ``type``."""
    return PlanKind.RENEWAL if package_type == "TOPUP" else PlanKind.ESIM
