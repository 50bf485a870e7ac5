"""Whether an upstream catalog item is one we can take, and the item as our columns keep it."""

from dataclasses import replace
from decimal import Decimal

from django.utils.translation import gettext as _

from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, Currency
from plans.models import CAPABILITY_FOR_KIND, Plan, PlanKind
from plans.providers.base import CatalogItem

ESIM_KINDS = {PlanKind.ESIM, PlanKind.RENEWAL, PlanKind.REPLACEMENT}
MONEY_STEP = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)
MONEY_LIMIT = Decimal(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES)
MAX_VALIDITY_DAYS = 3650


def problem(
    item: CatalogItem, operators: dict, existing: Plan | None, capabilities: frozenset
) -> str | None:
    """Why an item cannot be synced (``capabilities``: what its provider can do), or None."""
    if not isinstance(item.sku, str) or not item.sku.strip() or len(item.sku) > 100:
        return _("invalid SKU")
    if item.kind not in PlanKind.values:
        return _("kind %(kind)s is not one we sell") % {"kind": item.kind or "—"}
    if CAPABILITY_FOR_KIND[item.kind] not in capabilities:
        return _("the provider cannot supply this kind of plan")
    operator = operators.get(item.operator_code)
    if operator is None:
        return _("operator %(operator)s is not one of ours") % {
            "operator": item.operator_code or "—"
        }
    if not (operator.supports_esim if item.kind in ESIM_KINDS else operator.supports_recharge):
        return _("%(operator)s does not support this kind of plan") % {"operator": operator}
    if existing is not None and (existing.kind, existing.operator.code) != (
        item.kind,
        item.operator_code,
    ):
        return _("kind or operator differs from ours; change the plan by hand")
    if item.cost_currency not in Currency.values:
        return _("currency %(currency)s is not supported") % {"currency": item.cost_currency}
    if not _is_money(item.cost) or (
        item.airtime_amount is not None and not _is_money(item.airtime_amount)
    ):
        return _("invalid or negative amount")
    if not _is_count(item.validity_days) or item.validity_days > MAX_VALIDITY_DAYS:
        return _("invalid validity")
    if not all(
        value is None or _is_count(value) for value in (item.data_mb, item.minutes, item.sms)
    ):
        return _("invalid data, minutes or SMS")
    if not isinstance(item.data_unlimited, bool) or (item.data_unlimited and item.data_mb):
        return _("unlimited data cannot have a data cap")
    return None


def _is_money(value) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and 0 <= value < MONEY_LIMIT


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def normalized(item: CatalogItem) -> CatalogItem:
    """Amounts rounded as our columns keep them; a name that fits ours."""
    airtime = item.airtime_amount
    return replace(
        item,
        name=str(item.name or "").strip()[:150] or item.sku,
        cost=item.cost.quantize(MONEY_STEP),
        airtime_amount=None if airtime is None else airtime.quantize(MONEY_STEP),
        data_mb=None if item.data_unlimited or not item.data_mb else item.data_mb,
    )
