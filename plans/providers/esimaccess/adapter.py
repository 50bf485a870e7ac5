"""eSIM Access (open API v1, https://docs.esimaccess.com): data-only eSIMs from a prepaid balance.

Every call is a JSON POST signed with ``RT-AccessCode``, ``RT-Timestamp`` (ms), ``RT-RequestID``
(uuid4) and ``RT-Signature`` (see ``parsing.signature``). Answers come in an envelope
``{"success", "errorCode", "errorMsg", "obj"}``; a 200 with ``success: false`` is an error, mapped
to transient or permanent by code (``parsing.TRANSIENT_CODES``). Units: money in
1/10 000 USD, data in bytes, 1 MB = 1 MiB (``parsing``).

Issuing is two steps: ``esim/order`` (our reference as ``transactionId``) answers an ``orderNo``
at once, then the profile is allocated asynchronously (up to ~30 s) and read with ``esim/query``
(error 200010 until it is ready). We poll a few times; if it is still not ready we raise
``TransientProviderError("profile not ready")`` and the retry goes back to polling, never to a
second purchase:

* the ``orderNo`` is remembered in the cache under our reference, so a retry polls it directly;
* if it is not there (the order call timed out, or the cache was lost) but our call log shows an
  earlier order call for the reference, the retry first looks the profile up by ``transactionId``
  (``esim/query`` over the time since that first call) and uses it;
* only if that finds nothing (the order never arrived, or is still being allocated) is the order
  sent again, with the same ``transactionId``: the docs state "Duplicate transactionId will be
  identified as the same request" (Order Profiles), so the upstream answers the existing order.
  A refusal with an unknown code at that point is treated as transient (look again next time).

Options (the Provider row's ``settings``): ``location_code`` ("PK"), ``operator_map`` (upstream
operator name → our ``Operator.code``), ``sku_field`` ("slug", the docs' preference, or
"packageCode"), ``include_topups`` (list top-up packages as renewal plans; true),
``price_check`` (send the plan's USD cost with orders, so a changed price is refused rather than
paid; true), ``allocation_wait_seconds`` (30) and ``allocation_poll_seconds`` (3),
``revoke_used_profiles`` (cancel revokes a profile that can no longer be cancelled for a refund;
true), ``callback_secret_env`` and ``callback_token_header`` (see ``parse_callback``).
"""

import base64
import binascii
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from plans.models import Plan, ProviderCall
from plans.providers.base import (
    CallbackError,
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    PermanentProviderError,
    ProviderAdapter,
    ProviderError,
    RenewalResult,
    TransientProviderError,
    Usage,
)
from plans.providers.capabilities import (
    CancelsEsims,
    IssuesEsims,
    ReadsCatalog,
    ReadsUsage,
    RenewsEsims,
    SendsCallbacks,
)
from plans.providers.esimaccess import parsing
from plans.providers.http import BadResponse, UpstreamHttp, json_body, mark_failed

DEFAULT_BASE_URL = "https://api.esimaccess.com"
PACKAGE_LIST = "/api/v1/open/package/list"
ORDER = "/api/v1/open/esim/order"
QUERY = "/api/v1/open/esim/query"
TOPUP = "/api/v1/open/esim/topup"
CANCEL = "/api/v1/open/esim/cancel"
REVOKE = "/api/v1/open/esim/revoke"

OP_ORDER = "esim.order"
OP_QUERY = "esim.query"
MAX_TRANSACTION_ID = 50  # the docs' limit for transactionId
PAGE_SIZE = 500  # the largest page esim/query serves
LOOKUP_MAX_PAGES = 20
LOOKUP_MARGIN = timedelta(minutes=10)
ORDER_MEMO_SECONDS = 7 * 24 * 3600
DEFAULT_TOKEN_HEADER = "X-Callback-Token"


class EsimAccessAdapter(
    ProviderAdapter,
    IssuesEsims,
    RenewsEsims,
    ReadsUsage,
    ReadsCatalog,
    CancelsEsims,
    SendsCallbacks,
):
    """The eSIM Access upstream; see the module docstring. ``sleep`` is injectable for tests.

    No recharges (data eSIMs only) and no top-ups at our cost (its top-ups are fixed packages,
    used for renewals).
    """

    required_credentials = ("access_code", "secret_key")

    def __init__(self, provider, *, sleep: Callable[[float], None] | None = None):
        super().__init__(provider)
        self.sleep = sleep or time.sleep
        self.http = UpstreamHttp(provider, self.credentials.get("base_url") or DEFAULT_BASE_URL)

    # --- what eSIM Access offers ----------------------------------------------------------------

    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """One profile for ``reference``: ordered once, however often this is retried."""
        if msisdn:
            raise PermanentProviderError("esimaccess: data-only profiles cannot keep a number")
        _check_transaction_id(reference)
        order_no = cache.get(self._memo_key(reference))
        if order_no is None:
            first_call = self._first_order_call(reference)
            if first_call is not None:  # a retry: find what the earlier call may have bought
                record = self._find_by_transaction(reference, since=first_call)
                if record is not None and parsing.is_ready(record):
                    return parsing.issued_profile(record, str(record.get("orderNo") or ""))
                order_no = record.get("orderNo") if record else None
            if not order_no:
                order_no = self._order(reference, plan_sku, retry=first_call is not None)
            cache.set(self._memo_key(reference), order_no, timeout=ORDER_MEMO_SECONDS)
        return self._wait_for_profile(order_no, reference)

    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Top the eSIM up with a top-up package (``transactionId`` = our reference)."""
        _check_transaction_id(reference)
        record = self._profile(iccid)
        status = record.get("esimStatus")
        if status in parsing.DEAD_STATUSES or status in parsing.EXPIRED_STATUSES:
            raise PermanentProviderError(f"esimaccess: cannot top up a profile that is {status}")
        before = record.get("totalVolume")
        payload = {
            "esimTranNo": str(record["esimTranNo"]),
            "packageCode": plan_sku,
            "transactionId": reference,
        }
        obj = self._post(TOPUP, payload, operation="esim.topup", reference=reference)
        obj = obj if isinstance(obj, dict) else {}
        after = obj.get("totalVolume")
        added = None
        if isinstance(before, int) and isinstance(after, int) and after > before:
            added = parsing.bytes_to_mb(after - before)
        return RenewalResult(
            upstream_reference=str(obj.get("orderNo") or f"topup-{record['esimTranNo']}"),
            expires_at=parsing.parse_time(obj.get("expiredTime"), "expiredTime", "esim.topup"),
            data_added_mb=added,
        )

    def read_usage(self, *, iccid: str) -> Usage:
        """Data left, expiry and status from the profile's newest record (one call)."""
        return parsing.usage(self._profile(iccid), timezone.now())

    def cancel(self, *, reference: str, iccid: str) -> None:
        """Cancel (refund) an unused profile; revoke one already installed or used, unless
        ``revoke_used_profiles`` is off. Nothing to do once cancelled, revoked or expired."""
        records = self._query({"iccid": iccid}, reference=reference)
        record = parsing.for_transaction(records, reference) or parsing.latest(records)
        if record is None:
            raise PermanentProviderError("esimaccess: no profile with this ICCID")
        status = record.get("esimStatus")
        if status in parsing.DEAD_STATUSES or status in parsing.EXPIRED_STATUSES:
            return
        payload = {"esimTranNo": str(record["esimTranNo"])}
        if status == "GOT_RESOURCE" and record.get("smdpStatus") in (None, "", "RELEASED"):
            self._post(CANCEL, payload, operation="esim.cancel", reference=reference)
        elif self.options.get("revoke_used_profiles", True):
            self._post(REVOKE, payload, operation="esim.revoke", reference=reference)
        else:
            raise PermanentProviderError(
                "esimaccess: the profile is installed or used and cannot be cancelled"
            )

    def list_catalog(self) -> list[CatalogItem]:
        """The packages sold for ``location_code`` (plus its top-ups as renewal plans)."""
        location = self.options.get("location_code") or "PK"
        types = ["BASE", "TOPUP"] if self.options.get("include_topups", True) else ["BASE"]
        items = []
        for package_type in types:
            payload = {"locationCode": location, "type": package_type}
            obj = self._post(PACKAGE_LIST, payload, operation="package.list") or {}
            packages = obj.get("packageList") if isinstance(obj, dict) else None
            if not isinstance(packages, list):
                raise BadResponse("package.list: packageList is missing")
            for package in packages:
                item = parsing.catalog_item(
                    package,
                    kind=parsing.kind_for(package_type),
                    location=location,
                    operator_map=self.options.get("operator_map") or {},
                    sku_field=self.options.get("sku_field") or "slug",
                )
                if item is not None:
                    items.append(item)
        return items

    def parse_callback(self, *, headers, body: bytes) -> CallbackEvent:
        """Authenticate and read one notification.

        eSIM Access does not sign its webhooks (the docs offer only a sender IP allowlist), so
        we require a shared secret: the value of the environment variable named by
        ``callback_secret_env`` (else a ``webhook_secret`` credential), sent either in the
        ``callback_token_header`` header (default ``X-Callback-Token``, for a proxy that adds
        it) or as the password of HTTP Basic auth (``https://esimaccess:<secret>@host/…`` as
        the webhook URL). No secret configured: every callback is refused.
        """
        secret = self._callback_secret()
        if not secret:
            raise CallbackError("invalid_signature", "No callback secret is configured.")
        header = self.options.get("callback_token_header") or DEFAULT_TOKEN_HEADER
        presented = [_header(headers, header), _basic_password(_header(headers, "Authorization"))]
        if not any(
            token and hmac.compare_digest(token.encode(), secret.encode()) for token in presented
        ):
            raise CallbackError("invalid_signature", "Missing or wrong callback token.")
        return parsing.callback_event(body, timezone.now())

    # --- issuing -------------------------------------------------------------------------------

    def _order(self, reference: str, plan_sku: str, *, retry: bool) -> str:
        package = {"packageCode": plan_sku, "count": 1}
        price = self._price(plan_sku)
        payload = {"transactionId": reference, "packageInfoList": [package]}
        if price is not None:
            package["price"] = price
            payload["amount"] = price
        try:
            obj = self._post(ORDER, payload, operation=OP_ORDER, reference=reference)
        except parsing.EsimAccessRefused as exc:
            if retry and exc.code not in parsing.PERMANENT_CODES:
                raise TransientProviderError(
                    f"{exc.summary} (re-sent order; will look it up again)"
                ) from exc
            raise
        order_no = (obj or {}).get("orderNo") if isinstance(obj, dict) else None
        if not order_no:
            raise BadResponse(f"{OP_ORDER}: no orderNo in the answer")
        return str(order_no)

    def _wait_for_profile(self, order_no: str, reference: str) -> IssuedProfile:
        """Poll ``esim/query`` by orderNo until the profile is allocated, or give up (transient)."""
        wait = max(float(self.options.get("allocation_wait_seconds", 30)), 0)
        interval = max(float(self.options.get("allocation_poll_seconds", 3)), 0.1)
        for poll in range(1 + math.floor(wait / interval)):
            if poll:
                self.sleep(interval)
            try:
                records = self._query({"orderNo": order_no}, reference=reference)
            except parsing.EsimAccessTransient as exc:
                if exc.code == parsing.PROFILE_NOT_READY:
                    continue
                raise
            record = parsing.for_transaction(records, reference) or parsing.latest(records)
            if record is not None and parsing.is_ready(record):
                return parsing.issued_profile(record, order_no)
        raise TransientProviderError("profile not ready")

    def _first_order_call(self, reference: str) -> datetime | None:
        """When we first sent an order for ``reference`` (our call log), if ever."""
        return (
            ProviderCall.objects.filter(
                provider=self.provider, operation=OP_ORDER, reference=reference[:100]
            )
            .order_by("started_at")
            .values_list("started_at", flat=True)
            .first()
        )

    def _find_by_transaction(self, reference: str, *, since: datetime) -> dict | None:
        """The profile ordered with ``transactionId`` = reference since ``since``, if allocated."""
        start = (since - LOOKUP_MARGIN).astimezone(UTC)
        end = (timezone.now() + LOOKUP_MARGIN).astimezone(UTC)
        window = {"startTime": _query_time(start), "endTime": _query_time(end)}
        for page in range(1, LOOKUP_MAX_PAGES + 1):
            try:
                obj = self._post(
                    QUERY,
                    {**window, "pager": {"pageNum": page, "pageSize": PAGE_SIZE}},
                    operation=OP_QUERY,
                    reference=reference,
                )
            except parsing.EsimAccessTransient as exc:
                if exc.code == parsing.PROFILE_NOT_READY:
                    return None
                raise
            records = parsing.esim_list(obj, OP_QUERY)
            found = parsing.for_transaction(records, reference)
            if found is not None:
                return found
            total = ((obj or {}).get("pager") or {}).get("total") or (obj or {}).get("total")
            if len(records) < PAGE_SIZE or (isinstance(total, int) and page * PAGE_SIZE >= total):
                return None
        raise TransientProviderError(f"{OP_QUERY}: too many profiles to look the order up")

    def _price(self, plan_sku: str) -> int | None:
        """The plan's cost in 1/10 000 USD for the order's price check, if it is kept in USD."""
        if not self.options.get("price_check", True):
            return None
        plan = Plan.objects.filter(provider=self.provider, provider_sku=plan_sku).first()
        if plan is None or plan.cost_currency != "USD":
            return None
        try:
            return parsing.usd_to_units(plan.cost)
        except ValueError:
            return None

    def _memo_key(self, reference: str) -> str:
        return f"esimaccess:order:{self.provider.pk}:{reference}"

    # --- calls ---------------------------------------------------------------------------------

    def _profile(self, iccid: str) -> dict:
        """The newest record for an ICCID (they are reused); permanent error if there is none."""
        record = parsing.latest(self._query({"iccid": iccid}))
        if record is None or not record.get("esimTranNo"):
            raise PermanentProviderError("esimaccess: no profile with this ICCID")
        return record

    def _query(self, criteria: dict, *, reference: str = "") -> list[dict]:
        payload = {**criteria, "pager": {"pageNum": 1, "pageSize": 50}}
        obj = self._post(QUERY, payload, operation=OP_QUERY, reference=reference)
        return parsing.esim_list(obj, OP_QUERY)

    def _post(self, path: str, payload: dict, *, operation: str, reference: str = ""):
        """Sign and send one call; the envelope's ``obj``, or the mapped ProviderError."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        access_code = self.credentials["access_code"]
        timestamp, request_id = str(int(time.time() * 1000)), uuid.uuid4().hex
        headers = {
            "Content-Type": "application/json",
            "RT-AccessCode": access_code,
            "RT-Timestamp": timestamp,
            "RT-RequestID": request_id,
            "RT-Signature": parsing.signature(
                timestamp, request_id, access_code, body, self.credentials["secret_key"]
            ),
        }
        response = self.http.call(
            "post",
            path,
            operation=operation,
            reference=reference,
            data=body.encode(),
            headers=headers,
        )
        try:
            return parsing.unwrap(json_body(response, operation), operation)
        except ProviderError as exc:
            mark_failed(response, exc)  # the HTTP layer saw a 200
            raise

    def _callback_secret(self) -> str:
        """The env var named by ``callback_secret_env``, else a ``webhook_secret`` credential."""
        name = self.options.get("callback_secret_env")
        from_env = os.environ.get(name, "") if name else ""
        return from_env or self.credentials.get("webhook_secret", "")


def _check_transaction_id(reference: str) -> None:
    if not reference or len(reference) > MAX_TRANSACTION_ID:
        raise PermanentProviderError(
            f"esimaccess: references must be 1-{MAX_TRANSACTION_ID} characters"
        )


def _query_time(moment: datetime) -> str:
    """A time for esim/query's startTime/endTime, e.g. 2025-03-01T09:00+00:00 (docs' format)."""
    return moment.strftime("%Y-%m-%dT%H:%M+00:00")


def _header(headers, name: str) -> str:
    """A header's value, looked up case-insensitively (Django's headers or a plain dict)."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value or ""
    return ""


def _basic_password(authorization: str) -> str:
    """The password of an HTTP Basic ``Authorization`` header, else ""."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]
