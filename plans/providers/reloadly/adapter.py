"""Reloadly Airtime: PKR airtime for physical Pakistani SIMs (Jazz, Zong, Telenor, Ufone).

Contract (docs.reloadly.com, Airtime API): an OAuth client-credentials token from the auth host
(``audience`` = the top-ups base URL), then ``Accept: application/com.reloadly.topups-v1+json``
calls to the top-ups host. Every call is a ``ProviderCall`` row, the token call included.

Choices, written down:

* **Exactly one top-up per reference.** Our reference is Reloadly's ``customIdentifier``, which
  it accepts once. Before any ``POST /topups`` the reference is looked up in
  ``GET /topups/reports/transactions?customIdentifier=…``; a transaction found there is polled
  (``GET /topups/{id}/status``) instead of sending again. A timeout or 5xx on the POST raises a
  transient error, and the retry finds the top-up if it was accepted. A
  ``CUSTOM_IDENTIFIER_ALREADY_USED`` rejection leads to the same lookup; if the reports do not
  show it yet the error is transient, never a second send. No local table: Reloadly is the record.
* **The detected operator wins.** Numbers move between networks, so the number is auto-detected
  and the top-up goes to the operator Reloadly finds, even when it differs from the order's
  ``operator_code``, provided that operator maps to one of ours: ``settings["operator_map"]``
  (Reloadly operatorId → our code), else by name (the operator names Jazz, Zong, Telenor or Ufone;
  Mobilink is Jazz; data, bundle and PIN products only through the map). An operator we cannot
  map is a permanent error: the number is not on a network we sell. When Reloadly cannot detect
  the number, the order's operator is used (the SKU's operatorId if it maps to it, else the one
  operator_map id for it). A SKU ``<operatorId>:<amount>`` on the detected network (a bundle
  product, say) is sent to that operatorId; otherwise the detected operator gets the top-up.
* **Amounts are PKR, sent as local amounts** (``useLocalAmount: true``) and checked first: a
  FIXED operator takes one of its ``localFixedAmounts``, a RANGE operator anything from
  ``localMinAmount`` to ``localMaxAmount`` (else its account-currency range times ``fx.rate``,
  rounded inwards). Anything else, other currencies and fractions of a paisa are permanent errors.
* **Statuses:** SUCCESSFUL → the result; PROCESSING → transient ("recharge processing"), so the
  provisioning task asks again; REFUNDED and FAILED → permanent (the reference is spent: staff
  place a new order). ``INSUFFICIENT_BALANCE``, ``PHONE_RECENTLY_RECHARGED`` and Reloadly's
  "try later" codes are transient; other 4xx are permanent.
* **Catalog:** one ``recharge`` item per FIXED local denomination of each mapped operator (SKU
  ``<operatorId>:<amount>``), its name from ``localFixedAmountsDescriptions`` when given, its cost
  the amount converted at ``fx.rate`` into our account currency (before Reloadly's discount; PKR
  itself when there is no usable rate). RANGE operators list only ``settings["range_amounts"]``
  (a list of PKR amounts, or a dict of our operator code → list) that fall inside their range.
* **No webhooks:** Reloadly's public API reference documents no signature for top-up callbacks,
  so the adapter does not take webhooks (our callback endpoint answers 404). The lookup and
  the status poll above make callbacks unnecessary.
* The phone number is part of the auto-detect path; the call log keeps it masked.
"""

import logging
from decimal import Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from core.validators import normalize_pakistani_mobile
from plans.models import Operator, PlanKind
from plans.providers.base import (
    CatalogItem,
    PermanentProviderError,
    ProviderAdapter,
    ProviderError,
    RechargeResult,
    TransientProviderError,
)
from plans.providers.capabilities import ReadsCatalog, RechargesNumbers
from plans.providers.http import (
    BadResponse,
    Unauthorized,
    UpstreamHttp,
    error_body,
    json_body,
)
from plans.providers.reloadly import parsing as rp

logger = logging.getLogger(__name__)

ACCEPT = "application/com.reloadly.topups-v1+json"
COUNTRY = "PK"
ALREADY_USED = "CUSTOM_IDENTIFIER_ALREADY_USED"
NOT_DETECTED = "COULD_NOT_AUTO_DETECT_OPERATOR"
NOT_FOUND = "TRANSACTION_NOT_FOUND"
RETRY_LATER = {  # Reloadly error codes worth retrying, with a wait in seconds
    "TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT": 60,
    "OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE": 300,
    "RECIPIENT_HAS_PENDING_TRANSACTION": 120,
    "PHONE_RECENTLY_RECHARGED": 150,  # Reloadly makes a number wait two minutes between top-ups
    "INSUFFICIENT_BALANCE": 600,  # staff top up the Reloadly wallet
}


class Rejected(PermanentProviderError):
    """A 4xx from Reloadly; ``code`` is its ``errorCode`` ("" if none)."""

    def __init__(self, summary: str, code: str):
        super().__init__(summary)
        self.code = code


class ReloadlyAdapter(ProviderAdapter, RechargesNumbers, ReadsCatalog):
    """Reloadly Airtime: recharges and their catalog only (no eSIMs, so nothing to issue, renew,
    top up, read or cancel; no webhooks). See the module docstring."""

    required_credentials = ("client_id", "client_secret")

    def __init__(self, provider):
        super().__init__(provider)
        self.base_url = (
            self.credentials.get("base_url") or "https://topups-sandbox.reloadly.com"
        ).rstrip("/")
        auth = urlsplit(self.credentials.get("auth_url") or "https://auth.reloadly.com/oauth/token")
        self.http = UpstreamHttp(provider, self.base_url)
        self.auth_http = UpstreamHttp(provider, f"{auth.scheme}://{auth.netloc}")
        self.auth_path = auth.path or "/"
        self._operators: dict[int, rp.OperatorInfo] = {}  # for this adapter's lifetime only
        self._our_operators: dict[str, str] | None = None

    # --- recharge ---------------------------------------------------------------------------

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
        """Top up ``amount`` PKR once per ``reference`` (see the module docstring)."""
        if currency != rp.LOCAL_CURRENCY:
            raise PermanentProviderError(f"reloadly: recharges are in PKR, not {currency}")
        try:
            amount = rp.pkr_amount(amount)
        except rp.AmountNotAllowed as exc:
            raise PermanentProviderError(f"reloadly: {exc}") from None
        number = self._number(msisdn)
        existing = self._find(reference)
        if existing is not None:
            return self._settle(existing)
        operator = self._operator_for(number, operator_code, plan_sku, reference)
        try:
            rp.check_amount(operator, amount)
        except rp.AmountNotAllowed as exc:
            raise PermanentProviderError(f"reloadly: {exc}") from None
        body = {
            "operatorId": operator.id,
            "amount": amount,
            "useLocalAmount": True,
            "customIdentifier": reference,
            "recipientPhone": {"countryCode": COUNTRY, "number": number},
        }
        sender = str(self.options.get("sender_phone") or "")
        if sender:
            body["senderPhone"] = {"countryCode": COUNTRY, "number": self._number(sender)}
        try:
            data = self._call("post", "/topups", operation="topup", reference=reference, body=body)
        except Rejected as exc:
            if exc.code != ALREADY_USED:
                raise
            existing = self._find(reference)
            if existing is None:
                raise TransientProviderError(
                    "reloadly: the reference is already used but its top-up is not listed yet",
                    retry_after=60,
                ) from exc
            return self._settle(existing)
        return self._settle(self._parsed(rp.parse_topup, data, "topup"))

    def _find(self, reference: str) -> rp.Topup | None:
        """The top-up already made with ``reference``, at its current status; None if none."""
        try:
            data = self._call(
                "get",
                "/topups/reports/transactions",
                operation="find-topup",
                reference=reference,
                params={"customIdentifier": reference},
            )
        except Rejected as exc:
            if exc.code == NOT_FOUND:
                return None
            raise
        found = self._parsed(rp.matching_topups, data, "find-topup", reference)
        if not found:
            return None
        successful = [t for t in found if t.status == rp.SUCCESSFUL]
        topup = (successful or found)[0]
        status = self._call(
            "get",
            f"/topups/{topup.transaction_id}/status",
            operation="topup-status",
            reference=reference,
        )
        return self._parsed(rp.parse_topup, status, "topup-status")

    def _settle(self, topup: rp.Topup) -> RechargeResult:
        try:
            return rp.recharge_result(topup)
        except rp.BadShape as exc:
            raise BadResponse(f"reloadly: {exc}") from None

    # --- operators --------------------------------------------------------------------------

    def _operator_for(
        self, number: str, operator_code: str, plan_sku: str, reference: str
    ) -> rp.OperatorInfo:
        """The operator to top up (module docstring: the detected operator wins)."""
        detected = self._detect(number, reference)
        sku = rp.parse_sku(plan_sku)
        if detected is None:
            return self._order_operator(operator_code, sku)
        detected_code = self._our_code(detected)
        if not detected_code:
            raise PermanentProviderError(
                f"reloadly: the number is on {detected.name}, not on a network we sell"
            )
        if detected_code != operator_code:
            logger.info(
                "reloadly: number ends %s is on %s, not %s; topping up %s",
                number[-4:],
                detected_code,
                operator_code,
                detected_code,
            )
        if sku and sku[0] != detected.id and self._code_of(sku[0]) == detected_code:
            return self._operator(sku[0])
        return detected

    def _order_operator(self, operator_code: str, sku) -> rp.OperatorInfo:
        """The order's own operator, for numbers Reloadly cannot detect."""
        if sku and self._code_of(sku[0]) == operator_code:
            return self._operator(sku[0])
        mapped = [
            int(key)
            for key, code in self._operator_map().items()
            if code == operator_code and str(key).isdigit()
        ]
        if len(mapped) != 1:
            raise PermanentProviderError(
                f"reloadly: cannot detect the number's operator and no single Reloadly "
                f"operator is mapped to {operator_code!r}"
            )
        return self._operator(mapped[0])

    def _detect(self, number: str, reference: str) -> rp.OperatorInfo | None:
        path = f"/operators/auto-detect/phone/{{}}/countries/{COUNTRY}"
        try:
            data = self._call(
                "get",
                path.format(number),
                operation="detect-operator",
                reference=reference,
                log_path=path.format(number[:-4] + "****"),  # the number stays out of the log
            )
        except Rejected as exc:
            if exc.code == NOT_DETECTED:
                return None
            raise
        operator = self._parsed(rp.parse_operator, data, "detect-operator")
        self._operators.setdefault(operator.id, operator)
        return operator

    def _operator(self, operator_id: int) -> rp.OperatorInfo:
        if operator_id not in self._operators:
            data = self._call("get", f"/operators/{operator_id}", operation="operator")
            self._operators[operator_id] = self._parsed(rp.parse_operator, data, "operator")
        return self._operators[operator_id]

    def _operator_map(self) -> dict:
        mapping = self.options.get("operator_map") or {}
        return {str(key): str(code) for key, code in mapping.items()}

    def _code_of(self, operator_id: int) -> str:
        """Our code for a Reloadly operator id: the map, else its details by name."""
        return self._operator_map().get(str(operator_id)) or self._our_code(
            self._operator(operator_id)
        )

    def _our_code(self, operator: rp.OperatorInfo) -> str:
        """Our operator code for a Reloadly operator; "" if none."""
        mapped = self._operator_map().get(str(operator.id))
        if mapped or not operator.airtime:
            return mapped or ""
        if self._our_operators is None:
            self._our_operators = dict(
                Operator.objects.filter(country=COUNTRY).values_list("code", "name")
            )
        return rp.our_code_by_name(operator.name, self._our_operators)

    # --- catalog ----------------------------------------------------------------------------

    def list_catalog(self) -> list[CatalogItem]:
        """One item per PKR denomination of each operator we sell (module docstring)."""
        data = self._call("get", f"/operators/countries/{COUNTRY}", operation="operators")
        if not isinstance(data, list):
            raise BadResponse("operators: the answer is not a list")
        items = []
        for row in data:
            try:
                operator = rp.parse_operator(row)
            except rp.BadShape as exc:
                logger.warning("reloadly: skipped an operator: %s", exc)
                continue
            code = self._our_code(operator)
            if code:
                items.extend(self._items(operator, code))
        return items

    def _items(self, operator: rp.OperatorInfo, code: str) -> list[CatalogItem]:
        if operator.denomination == "FIXED":
            amounts = operator.local_fixed
        else:
            wanted = self.options.get("range_amounts") or []
            if isinstance(wanted, dict):
                wanted = wanted.get(code) or []
            try:
                amounts = [rp.decimal(str(a)).quantize(rp.CENT) for a in wanted]
            except rp.BadShape as exc:
                raise PermanentProviderError(f"reloadly: settings range_amounts: {exc}") from None
        items = []
        for amount in amounts:
            try:
                rp.check_amount(operator, amount)
            except rp.AmountNotAllowed:
                continue
            cost, cost_currency = rp.sender_cost(operator, amount)
            shown = rp.amount_text(amount)
            name = operator.local_descriptions.get(amount) or f"{operator.name} PKR {shown}"
            items.append(
                CatalogItem(
                    sku=f"{operator.id}:{shown}",
                    name=name[:150],
                    kind=PlanKind.RECHARGE,
                    operator_code=code,
                    cost=cost,
                    cost_currency=cost_currency,
                    validity_days=0,
                    airtime_amount=amount,
                )
            )
        return items

    # --- HTTP -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, operation: str, reference: str = "", **kwargs):
        """One call with the bearer token (refreshed once after a 401); the JSON answer
        (fractions as Decimal). A 4xx becomes ``Rejected`` (or transient for Reloadly's "retry"
        codes)."""
        headers = {"Accept": ACCEPT}
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs["data"] = rp.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = self.http.call_with_token(
                method,
                path,
                fetch_token=self._fetch_token,
                operation=operation,
                reference=reference,
                headers=headers,
                **kwargs,
            )
        except Unauthorized:
            raise
        except PermanentProviderError as exc:
            raise _classified(exc, _error_code(exc)) from None
        try:
            return rp.loads(response.content)
        except ValueError:
            raise BadResponse(f"{operation}: the answer is not JSON") from None

    def _fetch_token(self) -> tuple[str, int]:
        response = self.auth_http.call(
            "post",
            self.auth_path,
            operation="token",
            json={
                "client_id": self.credentials["client_id"],
                "client_secret": self.credentials["client_secret"],
                "grant_type": "client_credentials",
                "audience": self.base_url,
            },
            headers={"Accept": "application/json"},
        )
        data = json_body(response, "token")
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise BadResponse("token: no access_token in the answer")
        try:
            lifetime = int(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600
        return str(token), lifetime

    @staticmethod
    def _parsed(parse, data, operation: str, *args):
        try:
            return parse(data, *args)
        except rp.BadShape as exc:
            raise BadResponse(f"{operation}: {exc}") from None

    @staticmethod
    def _number(msisdn: str) -> str:
        """A Pakistani mobile number as Reloadly takes it: international digits, no "+"."""
        try:
            return normalize_pakistani_mobile(msisdn).lstrip("+")
        except ValidationError:
            raise PermanentProviderError("reloadly: not a Pakistani mobile number") from None


def _error_code(error: ProviderError) -> str:
    """Reloadly's ``errorCode`` from the body of a refused call."""
    code = error_body(error).get("errorCode")
    return code if isinstance(code, str) else ""


def _classified(error: PermanentProviderError, code: str) -> ProviderError:
    if code in RETRY_LATER:
        return TransientProviderError(
            f"{error.summary} ({code})", retry_after=float(RETRY_LATER[code])
        )
    return Rejected(f"{error.summary} ({code})" if code else error.summary, code)
