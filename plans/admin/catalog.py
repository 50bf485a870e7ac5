"""Admin of the catalog: operators, providers (with the catalog sync) and plans with prices."""

from django.contrib import admin

from core.admin.audit import AuditedModelAdmin, ServiceFieldsMixin
from plans.admin.forms import ConstraintErrorsForm
from plans.admin.importing import CatalogImportExportMixin
from plans.admin.pricing import form_changes
from plans.admin.sync import SYNC_PERMISSION, sync_catalog, sync_catalog_urls
from plans.models import Operator, OperatorPrefix, Plan, PlanPrice, Provider
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
            f.instance.pk: form_changes(f, f.instance, True)[1]
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
