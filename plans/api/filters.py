"""The partner catalog: plans priced for one partner in one query, and their filters."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import DecimalField, F, FilteredRelation, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Partner
from core.money import quantize
from plans.models import PartnerPriceRule, Plan, PlanKind

HUNDRED = Decimal(100)
API_PLAN_KINDS = [PlanKind.ESIM, PlanKind.RENEWAL, PlanKind.RECHARGE, PlanKind.REPLACEMENT]


def _discount(partner: Partner):
    """The most specific rule's discount for each plan: plan, then operator, then tier-wide."""
    rules = PartnerPriceRule.objects.filter(tier=partner.tier)
    by_plan = rules.filter(plan=OuterRef("pk")).values("discount_percent")[:1]
    by_operator = rules.filter(operator=OuterRef("operator_id"), plan=None)
    tier_wide = rules.filter(operator=None, plan=None)
    return Coalesce(
        Subquery(by_plan),
        Subquery(by_operator.values("discount_percent")[:1]),
        Subquery(tier_wide.values("discount_percent")[:1]),
        output_field=DecimalField(max_digits=5, decimal_places=2),
    )


def partner_catalog(partner: Partner):
    """Active API plans priced in the partner's currency, with ``retail`` and ``discount``.

    The same arithmetic as ``orders.services.pricing.partner_price``, for a whole page at once.
    """
    return (
        Plan.objects.filter(kind__in=API_PLAN_KINDS, is_active=True)
        .supplied()
        .select_related("operator")
        .annotate(
            retail_price=FilteredRelation("prices", condition=Q(prices__currency=partner.currency))
        )
        .filter(retail_price__amount__isnull=False)
        .annotate(retail=F("retail_price__amount"), discount=_discount(partner))
    )


def unit_price(plan: Plan, currency: str) -> Decimal:
    """A plan from :func:`partner_catalog` at its partner price."""
    base = quantize(plan.retail, currency)
    if plan.discount is None:
        return base
    return quantize(base * (HUNDRED - plan.discount) / HUNDRED, currency)


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """A whole number."""

    field_class = forms.IntegerField


class PlanFilter(django_filters.FilterSet):
    """Operator code, kind, validity range and minimum data (unlimited always qualifies)."""

    operator = django_filters.CharFilter(
        field_name="operator__code", help_text="Operator code, e.g. `jazz`."
    )
    kind = django_filters.ChoiceFilter(choices=PlanKind.choices)
    validity_days_min = IntegerFilter(
        field_name="validity_days", lookup_expr="gte", min_value=0, max_value=3650
    )
    validity_days_max = IntegerFilter(
        field_name="validity_days", lookup_expr="lte", min_value=0, max_value=3650
    )
    data_mb_min = IntegerFilter(
        method="filter_data_mb_min",
        min_value=0,
        max_value=10**9,
        help_text="At least this much data in MB (unlimited plans always match).",
    )

    class Meta:
        model = Plan
        fields = []

    def filter_data_mb_min(self, queryset, name, value):
        return queryset.filter(Q(data_unlimited=True) | Q(data_mb__gte=value))
