"""Admin list filters and annotations for price rules and promotions."""

from django.contrib import admin
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import Operator, Promotion


def with_redemptions(queryset: QuerySet) -> QuerySet:
    """Promotions annotated with ``redemptions``: orders that used them and still count."""
    return queryset.annotate(
        redemptions=Count(
            "orders", filter=~Q(orders__status__in=Promotion.UNCOUNTED_ORDER_STATUSES)
        )
    )


def running_now() -> Q:
    """Active, started, not yet ended and not used up (needs :func:`with_redemptions`)."""
    now = timezone.now()
    return (
        Q(is_active=True, starts_at__lte=now)
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        & (Q(max_redemptions__isnull=True) | Q(redemptions__lt=F("max_redemptions")))
    )


class RunningPromotionFilter(admin.SimpleListFilter):
    """Promotions a customer could use right now, or not."""

    title = _("running now")
    parameter_name = "running"

    def lookups(self, request, model_admin):
        return [("yes", _("Running now")), ("no", _("Not running"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(running_now())
        if self.value() == "no":
            return queryset.exclude(running_now())
        return queryset


class RuleOperatorFilter(admin.SimpleListFilter):
    """Price rules for an operator: set on the operator or on one of its plans."""

    title = _("operator")
    parameter_name = "for_operator"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Operator.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if (self.value() or "").isdigit():
            return queryset.filter(Q(operator=self.value()) | Q(plan__operator=self.value()))
        return queryset


def is_running(promotion) -> bool:
    """:func:`running_now` for one promotion annotated by :func:`with_redemptions`."""
    now = timezone.now()
    return (
        promotion.is_active
        and promotion.starts_at <= now
        and (promotion.ends_at is None or promotion.ends_at > now)
        and (promotion.max_redemptions is None or promotion.redemptions < promotion.max_redemptions)
    )
