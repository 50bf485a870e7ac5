"""The built-in sandbox upstream: deterministic, kept in the database, slow or failing on request.

Everything it returns is derived from our request reference, so a retry gets the same profile.
Options (the Provider row's ``settings``): ``latency_seconds``; ``fail`` ("", "transient",
"permanent" or "timeout_after_accept") for the first ``fail_times`` calls per reference;
``fail_skus`` (always refused); ``usage_mb_per_hour`` (how fast eSIMs use their data);
``confirmation_code`` (issue eSIMs that need one); ``top_up_offered`` (default true; false: act
like an upstream that cannot top up a profile).

A top-up (``top_up``) adds data and validity to an issued profile; usage readings then count it.
It is identified by its reference and ICCID only: a retry that asks for other amounts gets the
first top-up back and adds nothing (the caller recomputes the amounts from live data).

Its catalog (``list_catalog``, for catalog sync) is every plan we have of this provider, as we
have it, changed by three options: ``catalog`` (a list of dicts with ``CatalogItem`` fields: a new
SKU needs them all, a known SKU changes only the fields given, e.g. ``{"sku": "jazz-esim-day-2gb",
"cost": "130"}``), ``catalog_withdrawn`` (SKUs no longer sold) and ``catalog_fail`` ("transient"
or "permanent": the catalog cannot be read).
"""

import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.compiled import ScopedQuery
from core.validators import luhn_check_digit, normalize_pakistani_mobile
from plans.models import Plan, SandboxOrder
from plans.providers.base import (
    CallbackEvent,
    CatalogItem,
    IssuedProfile,
    PermanentProviderError,
    ProviderAdapter,
    RechargeResult,
    RenewalResult,
    TopUpResult,
    TransientProviderError,
    Usage,
)
from plans.providers.capabilities import (
    CancelsEsims,
    Capability,
    IssuesEsims,
    ReadsCatalog,
    ReadsUsage,
    RechargesNumbers,
    RenewsEsims,
    SendsCallbacks,
    TopsUpEsims,
)
from plans.providers.sandbox import callback as sandbox_callback

SMDP_ADDRESS = "smdp.sandbox.paksim.example"
FAIL_MODES = {"", "transient", "permanent", "timeout_after_accept"}
Op = SandboxOrder.Operation


def _digest(reference: str) -> tuple[str, str]:
    """The reference's sha256 as hex, and the same number as decimal digits (70+ of them)."""
    hexdigest = hashlib.sha256(reference.encode()).hexdigest()
    return hexdigest, str(int(hexdigest, 16))


def sandbox_iccid(reference: str) -> str:
    """The 19-digit ICCID (89 telecom, 92 Pakistan, Luhn check digit) issued for a reference."""
    partial = "8992" + _digest(reference)[1][:14]
    return partial + luhn_check_digit(partial)


def sandbox_msisdn(reference: str) -> str:
    """A valid Pakistani mobile number in E.164 form (+9230x, 31x, 32x or 34x) for a reference."""
    digits = _digest(reference)[1]
    return "+923" + "0124"[int(digits[20]) % 4] + digits[21:29]


class SandboxAdapter(
    ProviderAdapter,
    IssuesEsims,
    RenewsEsims,
    TopsUpEsims,
    RechargesNumbers,
    ReadsUsage,
    ReadsCatalog,
    CancelsEsims,
    SendsCallbacks,
):
    """A full upstream kept in ``SandboxOrder`` rows; see the module docstring for options."""

    def issue_esim(self, *, reference: str, plan_sku: str, msisdn: str = "") -> IssuedProfile:
        """Issue (or, for a known reference, return again) the eSIM profile for ``reference``."""
        self._pause()
        plan = self._plan(plan_sku)
        line = self._mobile(msisdn) if msisdn else sandbox_msisdn(reference)
        request = {"plan_sku": plan_sku, "iccid": sandbox_iccid(reference), "msisdn": line}
        order = self._run(
            reference,
            Op.ISSUE,
            request,
            lambda now: {"data_mb": _data_mb(plan), "expires_at": _expiry(now, plan)},
        )
        hexdigest, digits = _digest(reference)
        return IssuedProfile(
            iccid=order.iccid,
            activation_code=f"LPA:1${SMDP_ADDRESS}${hexdigest[20:40].upper()}",
            upstream_reference="sbx-" + hexdigest[:16],
            confirmation_code=digits[14:18] if self.options.get("confirmation_code") else "",
            msisdn=order.msisdn,
            data_total_mb=order.data_mb or None,
            expires_at=order.expires_at,
        )

    def renew(self, *, reference: str, iccid: str, plan_sku: str) -> RenewalResult:
        """Add a plan's data and validity to an eSIM this sandbox issued."""
        self._pause()
        plan = self._plan(plan_sku)
        issued = self._issued(iccid)
        if issued.cancelled_at:
            raise PermanentProviderError("sandbox: profile is cancelled")

        def extend(now: datetime) -> dict:
            current = _profile_expiry(issued, _extensions(issued))
            validity = timedelta(days=plan.validity_days)
            expires_at = max(current, now) + validity if current and validity else current
            return {"data_mb": _data_mb(plan), "expires_at": expires_at}

        order = self._run(reference, Op.RENEW, {"iccid": iccid, "plan_sku": plan_sku}, extend)
        return RenewalResult(
            upstream_reference="sbx-" + _digest(reference)[0][:16],
            expires_at=order.expires_at,
            data_added_mb=order.data_mb or None,
        )

    def offers(self, capability) -> bool:
        """Everything, except top-ups when ``top_up_offered`` is false."""
        if capability == Capability.TOP_UP and not self.options.get("top_up_offered", True):
            return False
        return super().offers(capability)

    def top_up(
        self,
        *,
        reference: str,
        iccid: str,
        data_mb: int = 0,
        valid_until: datetime | None = None,
    ) -> TopUpResult:
        """Add ``data_mb`` and keep the profile valid until at least ``valid_until``."""
        if not self.offers(Capability.TOP_UP):  # acting as an upstream that cannot
            raise PermanentProviderError("sandbox: top-up not offered")
        self._pause()
        if data_mb < 0:
            raise PermanentProviderError("sandbox: data_mb must not be negative")
        issued = self._issued(iccid)
        if issued.cancelled_at:
            raise PermanentProviderError("sandbox: profile is cancelled")

        def add(now: datetime) -> dict:
            current = _profile_expiry(issued, _extensions(issued))
            expires_at = max(current, valid_until) if current and valid_until else current
            return {"data_mb": data_mb, "expires_at": expires_at}

        order = self._run(reference, Op.TOP_UP, {"iccid": iccid}, add)
        return TopUpResult(
            upstream_reference="sbx-" + _digest(reference)[0][:16],
            data_added_mb=order.data_mb or 0,
            expires_at=order.expires_at,
        )

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
        """Send ``amount`` of airtime to a Pakistani mobile number."""
        self._pause()
        line = self._mobile(msisdn)
        if not amount > 0:
            raise PermanentProviderError("sandbox: amount must be positive")
        self._plan(plan_sku)
        amount = amount.quantize(Decimal("0.0001"))
        request = {"msisdn": line, "plan_sku": plan_sku, "amount": amount, "currency": currency}
        order = self._run(reference, Op.RECHARGE, request, lambda now: {})
        return RechargeResult(
            upstream_reference="sbx-tx-" + _digest(reference)[0][:16],
            delivered_amount=order.amount,
            currency=order.currency,
        )

    def read_usage(self, *, iccid: str) -> Usage:
        """Data left falls by ``usage_mb_per_hour`` from issue until expiry or cancellation."""
        self._pause()
        issued = self._issued(iccid)
        self._count(issued.pk)
        now = timezone.now()
        extensions = _extensions(issued)
        expires_at = _profile_expiry(issued, extensions)
        caps = [issued.data_mb, *(e.data_mb for e in extensions)]
        total = None if None in caps else sum(caps) or None
        stop = min(t for t in (now, expires_at, issued.cancelled_at) if t)
        hours = max((stop - issued.accepted_at).total_seconds(), 0) / 3600
        used = int(hours * float(self.options.get("usage_mb_per_hour", 50)))
        if issued.cancelled_at:
            status = "cancelled"
        elif expires_at and now >= expires_at:
            status = "expired"
        else:
            status = "active" if used > 0 else "issued"
        return Usage(
            data_total_mb=total,
            data_remaining_mb=None if total is None else max(total - used, 0),
            expires_at=expires_at,
            status=status,
            as_of=now,
        )

    def cancel(self, *, reference: str, iccid: str) -> None:
        """Cancel the profile; ``reference`` may be the issue's own or a new one for the cancel."""
        self._pause()
        issued = self._issued(iccid)
        if reference == issued.reference:
            self._count(issued.pk)
        else:
            self._run(reference, Op.CANCEL, {"iccid": iccid}, lambda now: {})
        SandboxOrder.objects.filter(pk=issued.pk, cancelled_at__isnull=True).update(
            cancelled_at=timezone.now()
        )

    def list_catalog(self) -> list[CatalogItem]:
        """Our plans of this provider, changed by the ``catalog*`` options; sorted by SKU."""
        self._pause()
        failure = self.options.get("catalog_fail") or ""
        if failure:
            error = TransientProviderError if failure == "transient" else PermanentProviderError
            raise error("sandbox: injected catalog failure")
        plans = Plan.objects.filter(provider=self.provider).select_related("operator")
        items = {
            plan.provider_sku: CatalogItem(
                sku=plan.provider_sku,
                name=plan.name,
                kind=plan.kind,
                operator_code=plan.operator.code,
                cost=plan.cost,
                cost_currency=plan.cost_currency,
                validity_days=plan.validity_days,
                data_mb=plan.data_mb,
                data_unlimited=plan.data_unlimited,
                minutes=plan.minutes,
                sms=plan.sms,
                airtime_amount=plan.airtime_amount,
            )
            for plan in plans
        }
        entries = self.options.get("catalog") or []
        if not isinstance(entries, list):
            raise PermanentProviderError("sandbox: the catalog option must be a list")
        for entry in entries:
            item = _catalog_entry(entry, items)
            items[item.sku] = item
        for sku in self.options.get("catalog_withdrawn") or []:
            items.pop(sku, None)
        return [items[sku] for sku in sorted(items)]

    def parse_callback(self, *, headers, body: bytes) -> CallbackEvent:
        """The sandbox's signed ``usage.updated`` callback (see ``sandbox.callback``)."""
        return sandbox_callback.parse(self.provider, headers=headers, body=body)

    def _pause(self) -> None:
        latency = float(self.options.get("latency_seconds") or 0)
        if latency > 0:
            time.sleep(latency)

    def _plan(self, plan_sku: str) -> "Package":
        if plan_sku in (self.options.get("fail_skus") or []):
            raise PermanentProviderError(f"sandbox: SKU {plan_sku} is refused")
        rows = PACKAGE_OF_SKU.rows(self.provider.pk, plan_sku)
        if not rows:
            raise PermanentProviderError(f"sandbox: unknown SKU {plan_sku}")
        return Package(*rows[0])

    def _mobile(self, msisdn: str) -> str:
        try:
            return normalize_pakistani_mobile(msisdn)
        except ValidationError:
            raise PermanentProviderError("sandbox: not a Pakistani mobile number") from None

    def _issued(self, iccid: str) -> SandboxOrder:
        issued = SandboxOrder.objects.filter(
            operation=Op.ISSUE, iccid=iccid, accepted_at__isnull=False
        ).first()
        if issued is None:
            raise PermanentProviderError("sandbox: unknown ICCID")
        return issued

    def _run(
        self, reference: str, operation: str, request: dict, accept: Callable[[datetime], dict]
    ) -> SandboxOrder:
        """Count the call, fail if told to, accept the order once and replay it afterwards."""
        mode = self.options.get("fail") or ""
        fail_times = int(self.options.get("fail_times", 1))
        # A new reference is accepted as it is recorded unless this first call is to fail.
        refuses_first = mode not in FAIL_MODES or (
            mode in ("transient", "permanent") and fail_times >= 1
        )
        order = self._record(reference, operation, request, None if refuses_first else accept)
        if mode not in FAIL_MODES:
            raise PermanentProviderError(f"sandbox: unknown fail mode {mode!r}")
        failing = order.calls <= fail_times
        if order.accepted_at is None:
            if failing and mode == "transient":
                raise TransientProviderError("sandbox: injected transient failure")
            if failing and mode == "permanent":
                raise PermanentProviderError("sandbox: injected permanent failure")
            now = timezone.now()
            SandboxOrder.objects.filter(pk=order.pk, accepted_at__isnull=True).update(
                accepted_at=now, **request, **accept(now)
            )
            order.refresh_from_db()
        if any(getattr(order, field) != value for field, value in request.items()):
            raise PermanentProviderError("sandbox: reference reused for a different request")
        if failing and mode == "timeout_after_accept":
            raise TransientProviderError("timeout")
        return order

    def _record(
        self,
        reference: str,
        operation: str,
        request: dict,
        accept: Callable[[datetime], dict] | None,
    ) -> SandboxOrder:
        """The one row for ``reference`` with this call counted: a new one (accepted at once
        with ``accept``'s fields when given) in one statement, else the existing one."""
        now = timezone.now()
        fields = {**request, "accepted_at": now, **accept(now)} if accept else request
        try:
            with transaction.atomic():
                return SandboxOrder.objects.create(
                    reference=reference, operation=operation, calls=1, **fields
                )
        except IntegrityError:
            order = SandboxOrder.objects.filter(reference=reference).first()
            if order is None:
                raise
        if order.operation != operation:
            raise PermanentProviderError("sandbox: reference used for another operation")
        return self._count(order.pk)

    def _count(self, pk: int) -> SandboxOrder:
        """Add one to the row's call counter and read it back (exact under concurrency)."""
        with transaction.atomic():
            SandboxOrder.objects.filter(pk=pk).update(calls=F("calls") + 1)
            return SandboxOrder.objects.get(pk=pk)


@dataclass(frozen=True)
class Package:
    """What the sandbox sells under a SKU (one of our plans): its data and validity."""

    data_mb: int | None
    data_unlimited: bool
    validity_days: int | None


PACKAGE_FIELDS = [field.name for field in dataclasses.fields(Package)]


def _data_mb(plan: Package) -> int | None:  # stored: None for unlimited, 0 for no data
    return None if plan.data_unlimited else plan.data_mb or 0


def _expiry(start: datetime, plan: Package) -> datetime | None:
    return start + timedelta(days=plan.validity_days) if plan.validity_days else None


def _extensions(issued: SandboxOrder) -> list[SandboxOrder]:
    """Renewals and top-ups of an issued profile, in the order they were accepted."""
    return list(
        SandboxOrder.objects.filter(
            operation__in=(Op.RENEW, Op.TOP_UP), iccid=issued.iccid, accepted_at__isnull=False
        ).order_by("accepted_at", "id")
    )


def _profile_expiry(issued: SandboxOrder, extensions: list[SandboxOrder]) -> datetime | None:
    """Each extension keeps the expiry it left the profile with; the last one stands."""
    return extensions[-1].expires_at if extensions else issued.expires_at


def _catalog_entry(entry, items: dict[str, CatalogItem]) -> CatalogItem:
    """One ``catalog`` option entry as an item: a new SKU, or fields changed on a known one."""
    fields = {f.name for f in dataclasses.fields(CatalogItem)}
    if not isinstance(entry, dict) or not entry.get("sku") or set(entry) - fields:
        raise PermanentProviderError(f"sandbox: malformed catalog entry {entry!r}")
    values = {}
    try:
        for name, value in entry.items():
            if value is None or name == "data_unlimited":
                values[name] = value if value is None else bool(value)
            elif name in ("cost", "airtime_amount"):
                values[name] = Decimal(str(value))
            elif name in ("validity_days", "data_mb", "minutes", "sms"):
                values[name] = int(value)
            else:
                values[name] = str(value)
        known = items.get(values["sku"])
        return dataclasses.replace(known, **values) if known else CatalogItem(**values)
    except (ArithmeticError, TypeError, ValueError):
        raise PermanentProviderError(f"sandbox: malformed catalog entry {entry!r}") from None


# The package of a SKU, read on every call: compiled once (core.compiled).
PACKAGE_OF_SKU = ScopedQuery(
    Plan,
    lambda provider_id, sku: (
        Plan.objects.filter(provider_id=provider_id, provider_sku=sku)
        .order_by()
        .values_list(*PACKAGE_FIELDS)[:1]
    ),
    probes=((-1, "probe-a"), (-2, "probe-b")),
)
