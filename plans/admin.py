from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_audit import AuditedModelAdmin, ServiceFieldsMixin, plain
from core.admin_filters import RecentValuesFilter
from core.admin_paging import EstimatedCountPaginator
from core.money import format_money
from plans.admin_filters import (
    RuleOperatorFilter,
    RunningPromotionFilter,
    is_running,
    with_redemptions,
)
from plans.admin_forms import ConstraintErrorsForm
from plans.admin_import import CatalogImportExportMixin
from plans.admin_sync import SYNC_PERMISSION, sync_catalog, sync_catalog_urls
from plans.models import (
    Operator,
    OperatorPrefix,
    PartnerPriceRule,
    Plan,
    PlanPrice,
    Promotion,
    Provider,
    ProviderCall,
    SandboxOrder,
)
from plans.services import prices


class OperatorPrefixInline(ServiceFieldsMixin, admin.TabularInline):
    model = OperatorPrefix
    extra = 0


@admin.register(Operator)
class OperatorAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "supports_esim", "supports_recharge", "ordering"]
    inlines = [OperatorPrefixInline]


@admin.register(Provider)
class ProviderAdmin(AuditedModelAdmin):
    list_display = ["name", "adapter", "is_active"]
    actions = [sync_catalog]

    def get_urls(self):
        return [*sync_catalog_urls(self), *super().get_urls()]

    def has_sync_catalog_permission(self, request):
        return request.user.has_perm(SYNC_PERMISSION)


# The catalog is priced by hand: plan costs and prices, partner price rules and promotions are
# what staff manage here (docs/decisions.md, "The admin reads; services write"). Prices, rules and
# promotions are saved and deleted by ``plans.services.prices``, which also writes the audit.


def _changes(form, obj, change: bool) -> tuple[list[str], dict]:
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
        fields, before = _changes(form, obj, change)
        self.save_with(obj, actor=request.user, changed_fields=fields, before=before)

    def delete_model(self, request, obj):
        self.delete_with([obj], actor=request.user)

    def delete_queryset(self, request, queryset):
        self.delete_with(queryset, actor=request.user)


class PlanPriceInline(ServiceFieldsMixin, admin.TabularInline):
    model = PlanPrice
    staff_set_fields = ["currency", "amount"]
    extra = 0


@admin.register(Plan)
class PlanAdmin(CatalogImportExportMixin, AuditedModelAdmin):
    form = ConstraintErrorsForm
    list_display = [
        "name",
        "operator",
        "kind",
        "period",
        "data_mb",
        "validity_days",
        "cost",
        "cost_currency",
        "is_active",
    ]
    list_filter = ["kind", "period", "operator", "provider", "is_active"]
    list_select_related = ["operator"]
    search_fields = ["name", "name_zh", "provider_sku"]
    staff_set_fields = ["airtime_amount", "cost", "cost_currency"]
    inlines = [PlanPriceInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not PlanPrice:
            return super().save_formset(request, form, formset, change)
        deleted = [f for f in formset.deleted_forms if f.instance.pk]
        before = {
            f.instance.pk: _changes(f, f.instance, True)[1]
            for f in formset.initial_forms
            if f.instance.pk and f.has_changed() and f not in deleted
        }
        formset.save(commit=False)  # builds the rows; the service writes them
        prices.delete_plan_prices(prices=formset.deleted_objects, actor=request.user)
        for price, fields in formset.changed_objects:
            prices.save_plan_price(
                price=price,
                actor=request.user,
                changed_fields=fields,
                before=before.get(price.pk, {}),
            )
        for price in formset.new_objects:
            prices.save_plan_price(price=price, actor=request.user)
        return None


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


@admin.register(SandboxOrder)
class SandboxOrderAdmin(AuditedModelAdmin):
    """What the built-in sandbox upstream has been asked for (read-only)."""

    list_display = ["reference", "operation", "iccid", "msisdn", "plan_sku", "calls", "created_at"]
    list_filter = ["operation"]
    search_fields = ["reference", "iccid", "msisdn"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProviderCall)
class ProviderCallAdmin(AuditedModelAdmin):
    """Every call to a real upstream: latency, status and error (read-only)."""

    list_display = [
        "started_at",
        "provider",
        "operation",
        "method",
        "path",
        "status_code",
        "outcome",
        "latency_ms",
        "reference",
    ]
    list_filter = ["provider", "outcome", ("operation", RecentValuesFilter), "started_at"]
    list_select_related = ["provider"]
    search_fields = ["reference"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
