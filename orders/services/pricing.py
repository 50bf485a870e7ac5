"""Prices: retail by currency for customers, price rules for partners, promotions."""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner
from core.money import quantize
from orders.services.errors import OrderError
from plans.models import PartnerPriceRule, Plan, PlanPrice, Promotion
from plans.services.catalog_memo import remembered

HUNDRED = Decimal(100)


def retail_price(plan: Plan, currency: str, catalog_version: str | None = None) -> Decimal:
    """The plan's retail price in ``currency`` (kept while the catalog is at ``catalog_version``:
    :mod:`plans.services.catalog_memo`)."""
    amount = remembered(
        catalog_version, ("price", plan.pk, currency), lambda: _amount(plan, currency)
    )
    if amount is None:
        raise OrderError("price_unavailable", _("This plan is not sold in %s.") % currency)
    return quantize(amount, currency)


def _amount(plan: Plan, currency: str) -> Decimal | None:
    return (
        PlanPrice.objects.filter(plan=plan, currency=currency)
        .values_list("amount", flat=True)
        .first()
    )


def partner_price(plan: Plan, partner: Partner, catalog_version: str | None = None) -> Decimal:
    """Retail price in the partner's currency less the most specific rule's discount (both kept
    while the catalog is at ``catalog_version``)."""
    base = retail_price(plan, partner.currency, catalog_version)
    key = ("discount", plan.pk, partner.tier)
    discount = remembered(catalog_version, key, lambda: _discount_percent(plan, partner.tier))
    if discount is None:
        return base
    return quantize(base * (HUNDRED - discount) / HUNDRED, partner.currency)


def _discount_percent(plan: Plan, tier: str) -> Decimal | None:
    """The discount of the tier's most specific rule for ``plan``: the plan's own, its
    operator's, then the tier's."""
    rules = PartnerPriceRule.objects.filter(tier=tier).filter(
        Q(plan=plan) | Q(operator=plan.operator_id, plan=None) | Q(operator=None, plan=None)
    )
    rule = min(rules, key=lambda r: 0 if r.plan_id else 1 if r.operator_id else 2, default=None)
    return None if rule is None else rule.discount_percent


def promotion_discount(code: str, subtotal: Decimal, currency: str) -> tuple[Promotion, Decimal]:
    """Lock and check a promotion code; return it with the discount it gives on ``subtotal``."""
    now = timezone.now()
    promotion = Promotion.objects.select_for_update().filter(code=code.strip().upper()).first()
    if (
        promotion is None
        or not promotion.is_active
        or promotion.starts_at > now
        or (promotion.ends_at and promotion.ends_at <= now)
    ):
        raise OrderError("promotion_invalid", _("This promotion code is not valid."))
    if promotion.max_redemptions is not None:
        used = promotion.orders.exclude(status__in=Promotion.UNCOUNTED_ORDER_STATUSES).count()
        if used >= promotion.max_redemptions:
            raise OrderError("promotion_used_up", _("This promotion code has been used up."))
    if promotion.percent_off is not None:
        discount = quantize(subtotal * promotion.percent_off / HUNDRED, currency)
    elif promotion.amount_currency == currency:
        discount = quantize(promotion.amount_off, currency)
    else:
        raise OrderError(
            "promotion_currency",
            _("This promotion code applies to payments in %s.") % promotion.amount_currency,
        )
    return promotion, min(discount, subtotal)
