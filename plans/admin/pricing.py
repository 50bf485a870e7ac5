"""Admin of partner price rules and promotions, saved and deleted through the price services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin.audit import AuditedModelAdmin, plain
from core.money import format_money
from plans.admin.filters import (
    RuleOperatorFilter,
    RunningPromotionFilter,
    is_running,
    with_redemptions,
)
from plans.admin.forms import ConstraintErrorsForm
from plans.models import PartnerPriceRule, Promotion
from plans.services import prices

# The catalog is priced by hand: plan costs and prices, partner price rules and promotions are
# what staff manage here (docs/decisions.md, "The admin reads; services write"). Prices, rules and
# promotions are saved and deleted by ``plans.services.prices``, which also writes the audit.


def form_changes(form, obj, change: bool) -> tuple[list[str], dict]:
    """The concrete fields the form changed, and their values before (for the audit)."""
    concrete = {f.name for f in obj._meta.concrete_fields if not f.primary_key}
    fields = [name for name in form.changed_data if name in concrete]
    return fields, ({name: plain(form.initial.get(name)) for name in fields} if change else {})


class PriceServiceAdminMixin:
    """Saves and deletes go through the admin's ``save_with`` / ``delete_with`` services."""

    def save_with(self, obj, **kwargs):
        raise NotImplementedError

    def delete_with(self, objects, **kwargs):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        fields, before = form_changes(form, obj, change)
        self.save_with(obj, actor=request.user, changed_fields=fields, before=before)

    def delete_model(self, request, obj):
        self.delete_with([obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        self.delete_with(queryset, actor=request.user)


@admin.register(PartnerPriceRule)
class PartnerPriceRuleAdmin(PriceServiceAdminMixin, AuditedModelAdmin):
    """Partner discounts: for a whole tier, one operator or one plan (the most specific wins)."""

    form = ConstraintErrorsForm
    list_display = ["tier", "applies_to", "discount_percent"]
    list_filter = ["tier", RuleOperatorFilter]
    list_select_related = ["operator", "plan"]
    autocomplete_fields = ["plan"]
    ordering = ["tier", "operator__name", "plan__name"]

    def save_with(self, rule, **kwargs):
        prices.save_price_rule(rule=rule, **kwargs)

    def delete_with(self, rules, **kwargs):
        prices.delete_price_rules(rules=rules, **kwargs)

    @admin.display(description=_("applies to"))
    def applies_to(self, rule):
        if rule.plan_id:
            return _("plan: %(plan)s") % {"plan": rule.plan}
        if rule.operator_id:
            return _("operator: %(operator)s") % {"operator": rule.operator}
        return _("all plans")


@admin.register(Promotion)
class PromotionAdmin(PriceServiceAdminMixin, AuditedModelAdmin):
    """Promotion codes, with how often each was redeemed and whether it can be used now."""

    form = ConstraintErrorsForm
    list_display = [
        "code",
        "discount",
        "starts_at",
        "ends_at",
        "redemptions",
        "running",
        "is_active",
    ]
    list_filter = [RunningPromotionFilter, "is_active"]
    search_fields = ["code", "description"]
    staff_set_fields = ["amount_off", "amount_currency"]

    def get_queryset(self, request):
        return with_redemptions(super().get_queryset(request))

    def save_with(self, promotion, **kwargs):
        prices.save_promotion(promotion=promotion, **kwargs)

    def delete_with(self, promotions, **kwargs):
        prices.delete_promotions(promotions=promotions, **kwargs)

    @admin.display(description=_("discount"))
    def discount(self, promotion):
        if promotion.percent_off is not None:
            return f"{promotion.percent_off.normalize():f}%"
        return format_money(promotion.amount_off, promotion.amount_currency)

    @admin.display(description=_("redemptions"), ordering="redemptions")
    def redemptions(self, promotion):
        if promotion.max_redemptions is None:
            return promotion.redemptions
        return f"{promotion.redemptions} / {promotion.max_redemptions}"

    @admin.display(description=_("running now"), boolean=True)
    def running(self, promotion):
        return is_running(promotion)
