"""Prices: retail by currency for customers, price rules for partners, promotions."""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner
from core.money import quantize
from orders.services.errors import OrderError
from plans.models import PartnerPriceRule, Plan, PlanPrice, Promotion

HUNDRED = Decimal(100)


def retail_price(plan: Plan, currency: str) -> Decimal:
    """The plan's retail price in ``currency``."""
    price = PlanPrice.objects.filter(plan=plan, currency=currency).first()
    if price is None:
        raise OrderError("price_unavailable", _("This plan is not sold in %s.") % currency)
    return quantize(price.amount, currency)


def partner_price(plan: Plan, partner: Partner) -> Decimal:
    """Retail price in the partner's currency less the most specific rule's discount."""
    base = retail_price(plan, partner.currency)
    rules = PartnerPriceRule.objects.filter(tier=partner.tier).filter(
        Q(plan=plan) | Q(operator=plan.operator_id, plan=None) | Q(operator=None, plan=None)
    )
    rule = min(rules, key=lambda r: 0 if r.plan_id else 1 if r.operator_id else 2, default=None)
    if rule is None:
        return base
    return quantize(base * (HUNDRED - rule.discount_percent) / HUNDRED, partner.currency)


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
