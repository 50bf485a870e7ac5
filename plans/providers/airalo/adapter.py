"""Airalo Partner API v2: eSIMs and top-ups bought from Airalo, usage, catalog and webhooks.

Credentials (``settings.PROVIDER_CREDENTIALS["airalo"]``): ``client_id``, ``client_secret``,
``base_url``; optionally ``webhook_secret`` (else the client secret signs webhooks, as Airalo
documents). Options (the Provider row's ``settings``):

- ``operator_map``: Airalo operator title → our ``Operator.code`` (unmapped: "").
- ``catalog_filters``: ``filter[...]`` values for the catalog (default ``{"country": "PK",
  "type": "local"}``); ``catalog_topups`` (default true: top-up packages too, as renewals);
  ``catalog_page_size`` (default 500).
- ``settle_seconds``: after an order that got no answer from Airalo (a timeout or a 5xx), how
  long a lookup that finds nothing waits before ordering again (default 60).

Idempotency. Airalo has no idempotency key: a repeated ``POST /v2/orders`` buys again. Our
reference goes into the order's ``description``. Before ordering, if this reference was sent
before (a marker set in the cache just before each order, or an earlier order call for it in
the ``ProviderCall`` log), the order list is searched by description (``filter[description]``
is a substring search, so only an exact match counts) and a found order is returned instead.
Top-ups work the same way through ``POST /v2/orders/topups`` with the reference as description:
top-up orders are orders (type "topup") in the same list. The SIM's package history is not
used: its entries do not carry our reference, so a repeat of one package looks like a retry.
"""

import logging

from django.core.cache import cache
from django.utils import timezone

from plans.models import ProviderCall
from plans.providers.airalo import parsing
from plans.providers.base import (
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    PermanentProviderError,
    ProviderAdapter,
    RenewalResult,
    TransientProviderError,
    Usage,
)
from plans.providers.capabilities import (
    Capability,
    IssuesEsims,
    ReadsCatalog,
    ReadsUsage,
    RenewsEsims,
    SendsCallbacks,
)
from plans.providers.http import (
    BadResponse,
    Unauthorized,
    UpstreamHttp,
    json_body,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://sandbox-partners-api.airalo.com"
DEFAULT_CATALOG_FILTERS = {"country": "PK", "type": "local"}
DEFAULT_PAGE_SIZE = 500
MAX_PAGES = 50
LOOKUP_PAGE_SIZE = 100  # a reference and its unit suffixes (ord-X, ord-X-2 … ord-X-50) fit
MAX_LOOKUP_PAGES = 5
DEFAULT_SETTLE_SECONDS = 60
SENT_MARKER_SECONDS = 30 * 24 * 3600
TOKEN_FALLBACK_SECONDS = 3600

OP_TOKEN = "token"
OP_PACKAGES = "packages"
OP_ORDER = "order"
OP_TOPUP = "topup"
OP_LOOKUP = "order_lookup"
OP_TOPUPS = "topup_packages"
OP_USAGE = "usage"


class AiraloAdapter(
    ProviderAdapter, IssuesEsims, RenewsEsims, ReadsUsage, ReadsCatalog, SendsCallbacks
):
    """The Airalo Partner API; see the module docstring for options and idempotency.

    No recharges (eSIM data only), no cancel (the partner API has none) and no top-ups at our
    cost (its top-ups are fixed packages, used for renewals).
    """

    required_credentials = ("client_id", "client_secret")
    unoffered_notes = {
        Capability.CANCEL: "ask for a refund in the Airalo partner platform (reviewed by Airalo)"
    }

    def __init__(self, provider):
        super().__init__(provider)
        base_url = self.credentials.get("base_url") or DEFAULT_BASE_URL
        self.http = UpstreamHttp(provider, base_url)

    # --- what Airalo offers --------------------------------------------------------------

    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """Buy one eSIM of ``plan_sku`` (or return the one already bought for ``reference``).

        Airalo cannot move a phone number to a new eSIM: a replacement (``msisdn`` set) is a new
        eSIM of the same package.
        """
        if self._sent_before(reference, OP_ORDER):
            found = self._find_order(reference, order_type="sim", package_id=plan_sku)
            if found is not None:
                return parsing.issued_profile(found, OP_LOOKUP)
            self._wait_if_settling(reference, OP_ORDER)
        self._mark_sent(reference, OP_ORDER)
        body = self._call(
            "post",
            "/v2/orders",
            operation=OP_ORDER,
            reference=reference,
            data={"quantity": 1, "package_id": plan_sku, "type": "sim", "description": reference},
        )
        return parsing.issued_profile(self._object(body, OP_ORDER), OP_ORDER)

    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Top up the eSIM with ``plan_sku``, which must be one of its offered top-ups."""
        if self._sent_before(reference, OP_TOPUP):
            found = self._find_order(
                reference, order_type="topup", package_id=plan_sku, iccid=iccid
            )
            if found is not None:
                return parsing.renewal_result(found, package=None)
            self._wait_if_settling(reference, OP_TOPUP)
        package = self._topup_package(iccid, plan_sku, reference)
        self._mark_sent(reference, OP_TOPUP)
        body = self._call(
            "post",
            "/v2/orders/topups",
            operation=OP_TOPUP,
            reference=reference,
            data={"package_id": plan_sku, "iccid": iccid, "description": reference},
        )
        return parsing.renewal_result(self._object(body, OP_TOPUP), package)

    def read_usage(self, *, iccid: str) -> Usage:
        """Data left, expiry and status from ``GET /v2/sims/{iccid}/usage`` (Airalo caches it)."""
        body = self._call("get", f"/v2/sims/{_path_iccid(iccid)}/usage", operation=OP_USAGE)
        return parsing.usage(parsing.data_of(body, OP_USAGE), timezone.now())

    def list_catalog(self) -> list[CatalogItem]:
        """Every package ``GET /v2/packages`` lists under the configured filters."""
        filters = self.options.get("catalog_filters")
        filters = DEFAULT_CATALOG_FILTERS if filters is None else filters
        params = {f"filter[{key}]": value for key, value in filters.items() if value}
        params["limit"] = int(self.options.get("catalog_page_size") or DEFAULT_PAGE_SIZE)
        if self.options.get("catalog_topups", True):
            params["include"] = "topup"
        countries = []
        for page in range(1, MAX_PAGES + 1):
            body = self._call(
                "get", "/v2/packages", operation=OP_PACKAGES, params={**params, "page": page}
            )
            listed = parsing.records(parsing.data_of(body, OP_PACKAGES), OP_PACKAGES)
            countries.extend(listed)
            if not listed or not parsing.has_next_page(body, page):
                operator_map = self.options.get("operator_map") or {}
                return parsing.catalog_items(countries, operator_map)
        raise BadResponse(f"{OP_PACKAGES}: more than {MAX_PAGES} pages; raise catalog_page_size")

    def parse_callback(self, *, headers, body: bytes) -> CallbackEvent:
        """Verify ``airalo-signature`` (HMAC-SHA512 of the body) and read the notification."""
        secret = self.credentials.get("webhook_secret") or self.credentials.get("client_secret")
        parsing.verify_signature(headers, body, secret or "")
        return parsing.callback_event(body, timezone.now())

    # --- HTTP with the bearer token ----------------------------------------------------------

    def _call(self, method: str, path: str, *, operation: str, reference: str = "", **kwargs):
        """One call with the bearer token (refreshed once after a 401); the JSON object answered."""
        response = self.http.call_with_token(
            method,
            path,
            fetch_token=self._fetch_token,
            operation=operation,
            reference=reference,
            headers={"Accept": "application/json"},
            **kwargs,
        )
        body = json_body(response, operation)
        if not isinstance(body, dict):
            raise BadResponse(f"{operation}: the answer is not a JSON object")
        return body

    def _fetch_token(self) -> tuple[str, int]:
        """``POST /v2/token`` (client credentials) → (access token, lifetime in seconds)."""
        try:
            response = self.http.call(
                "post",
                "/v2/token",
                operation=OP_TOKEN,
                headers={"Accept": "application/json"},
                data={
                    "client_id": self.credentials.get("client_id", ""),
                    "client_secret": self.credentials.get("client_secret", ""),
                    "grant_type": "client_credentials",
                },
            )
        except Unauthorized as exc:  # not a stale token: the credentials themselves
            raise PermanentProviderError(f"{exc.summary} (credentials refused)") from None
        data = parsing.data_of(json_body(response, OP_TOKEN), OP_TOKEN)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise BadResponse(f"{OP_TOKEN}: the answer has no access_token")
        lifetime = data.get("expires_in")
        valid = isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0
        return token, lifetime if valid else TOKEN_FALLBACK_SECONDS

    @staticmethod
    def _object(body: dict, operation: str) -> dict:
        data = parsing.data_of(body, operation)
        if not isinstance(data, dict):
            raise BadResponse(f"{operation}: the answer's data is not an object")
        return data

    # --- idempotency -------------------------------------------------------------------------

    def _marker_key(self, reference: str, operation: str) -> str:
        return f"airalo-sent:{self.provider.pk}:{operation}:{reference}"

    def _mark_sent(self, reference: str, operation: str) -> None:
        """Note, before sending, that an order for ``reference`` may exist from now on."""
        cache.set(self._marker_key(reference, operation), 1, timeout=SENT_MARKER_SECONDS)

    def _sent_before(self, reference: str, operation: str) -> bool:
        """Whether an order for ``reference`` may already have reached Airalo."""
        if cache.get(self._marker_key(reference, operation)):
            return True
        return ProviderCall.objects.filter(
            provider=self.provider, operation=operation, reference=reference[:100]
        ).exists()

    def _find_order(
        self, reference: str, *, order_type: str, package_id: str, iccid: str = ""
    ) -> dict | None:
        """The live order whose description is exactly ``reference``, or None.

        PermanentProviderError when it was for another package or SIM (our reference reused)
        or when Airalo has refunded it.
        """
        params = {
            "filter[description]": reference,
            "include": "sims,status",
            "limit": LOOKUP_PAGE_SIZE,
        }
        matches = []
        for page in range(1, MAX_LOOKUP_PAGES + 1):
            body = self._call(
                "get",
                "/v2/orders",
                operation=OP_LOOKUP,
                reference=reference,
                params={**params, "page": page},
            )
            listed = parsing.records(parsing.data_of(body, OP_LOOKUP), OP_LOOKUP)
            matches += [
                order
                for order in listed
                if order.get("description") == reference
                and (order.get("type") or order_type) == order_type
                and parsing.order_status(order) != "failed"
            ]
            if not listed or not parsing.has_next_page(body, page):
                break
        else:  # never guess "not found" from a partial list: that would buy a second time
            raise BadResponse(f"{OP_LOOKUP}: more than {MAX_LOOKUP_PAGES} pages match {reference}")
        if not matches:
            return None
        order = min(matches, key=lambda o: (str(o.get("created_at") or ""), str(o.get("id"))))
        if len(matches) > 1:
            logger.warning(
                "airalo: %d orders carry the reference %s (%s); using the first",
                len(matches),
                reference,
                ", ".join(parsing.order_reference(o) for o in matches),
            )
        label = f"{OP_LOOKUP}: Airalo order {parsing.order_reference(order)} for {reference}"
        if order.get("package_id") not in (None, package_id):
            raise PermanentProviderError(f"{label} is for another package")
        if iccid and parsing.order_iccids(order) and iccid not in parsing.order_iccids(order):
            raise PermanentProviderError(f"{label} is for another SIM")
        if "refunded" in parsing.order_status(order):
            raise PermanentProviderError(f"{label} was refunded")
        return order

    def _wait_if_settling(self, reference: str, operation: str) -> None:
        """Not found yet: if the last order attempt got no answer from Airalo (a timeout, or a
        gateway's 5xx) only just now, Airalo may still be working on it, so wait instead of
        ordering a second time."""
        settle = int(self.options.get("settle_seconds", DEFAULT_SETTLE_SECONDS))
        last = (
            ProviderCall.objects.filter(
                provider=self.provider, operation=operation, reference=reference[:100]
            )
            .order_by("-started_at", "-id")
            .first()
        )
        if last is None or (last.status_code is not None and last.status_code < 500):
            return  # never sent, or Airalo itself answered it (a 5xx may be a gateway's)
        waited = (timezone.now() - last.started_at).total_seconds()
        if waited < settle:
            raise TransientProviderError(
                f"{operation}: no Airalo order for {reference} yet after a timeout; "
                "checking again before ordering",
                retry_after=max(settle - waited, 1),
            )

    # --- helpers -----------------------------------------------------------------------------

    def _topup_package(self, iccid: str, plan_sku: str, reference: str) -> dict:
        """The top-up package ``plan_sku`` as Airalo offers it for this eSIM."""
        body = self._call(
            "get",
            f"/v2/sims/{_path_iccid(iccid)}/topups",
            operation=OP_TOPUPS,
            reference=reference,
        )
        offered = parsing.records(parsing.data_of(body, OP_TOPUPS), OP_TOPUPS)
        for package in offered:
            if package.get("id") == plan_sku:
                return package
        raise PermanentProviderError(
            f"{OP_TOPUPS}: {plan_sku} is not a top-up Airalo offers for this eSIM"
        )


def _path_iccid(iccid: str) -> str:
    """The ICCID for a URL path; only digits are accepted (nothing to escape or inject)."""
    if not (iccid.isascii() and iccid.isdigit()):
        raise PermanentProviderError("airalo: an ICCID is digits only")
    return iccid
