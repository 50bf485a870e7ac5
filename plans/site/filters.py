"""The customer catalog's filters: active eSIM plans priced in the shopper's currency."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext_lazy as _

from plans.models import Operator, Period, Plan, PlanKind

MB_PER_GB = 1024
CATALOG_PERIODS = [
    (Period.DAILY.value, Period.DAILY.label),
    (Period.WEEKLY.value, Period.WEEKLY.label),
    (Period.MONTHLY.value, Period.MONTHLY.label),
    (Period.YEARLY.value, Period.YEARLY.label),
]


def catalog_plans(currency: str):
    """Active eSIM plans that their provider supplies and that have a price in ``currency``,
    annotated with that ``price``."""
    return (
        Plan.objects.filter(kind=PlanKind.ESIM, is_active=True)
        .supplied()
        .select_related("operator")
        .annotate(retail=FilteredRelation("prices", condition=Q(prices__currency=currency)))
        .filter(retail__amount__isnull=False)
        .annotate(price=F("retail__amount"))
    )


class DaysFilter(django_filters.NumberFilter):
    """A whole number of days."""

    field_class = forms.IntegerField


class PlanFilterForm(forms.Form):
    """Refuses a validity range that ends before it starts."""

    def clean(self):
        data = super().clean()
        low, high = data.get("min_days"), data.get("max_days")
        if low is not None and high is not None and low > high:
            self.add_error("max_days", _("The end of the range is before its start."))
        return data


class PlanFilter(django_filters.FilterSet):
    """Operator, period, minimum data, validity range and a maximum price."""

    operator = django_filters.ModelChoiceFilter(
        label=_("Operator"),
        field_name="operator",
        to_field_name="code",
        queryset=Operator.objects.filter(supports_esim=True),
        empty_label=_("All operators"),
    )
    period = django_filters.ChoiceFilter(
        label=_("Period"), choices=CATALOG_PERIODS, empty_label=_("Any period")
    )
    min_data = django_filters.NumberFilter(
        label=_("Data at least (GB)"), method="filter_min_data", min_value=0, max_value=100000
    )
    min_days = DaysFilter(
        label=_("Validity from (days)"),
        field_name="validity_days",
        lookup_expr="gte",
        min_value=0,
        max_value=3650,
    )
    max_days = DaysFilter(
        label=_("Validity up to (days)"),
        field_name="validity_days",
        lookup_expr="lte",
        min_value=0,
        max_value=3650,
    )
    max_price = django_filters.NumberFilter(
        label=_("Maximum price"),
        field_name="price",
        lookup_expr="lte",
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )

    class Meta:
        model = Plan
        fields = []
        form = PlanFilterForm

    def __init__(self, data=None, *, currency: str, **kwargs):
        super().__init__(data, queryset=catalog_plans(currency), **kwargs)
        self.filters["max_price"].label = _("Maximum price (%(currency)s)") % {"currency": currency}

    def filter_min_data(self, queryset, name, value):
        """Plans with at least ``value`` GB of data, or unlimited data."""
        minimum = int((Decimal(value) * MB_PER_GB).to_integral_value())
        return queryset.filter(Q(data_unlimited=True) | Q(data_mb__gte=minimum))
