from django.contrib import admin

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
from portal.admin_audit import AuditedModelAdmin


class OperatorPrefixInline(admin.TabularInline):
    model = OperatorPrefix
    extra = 0


@admin.register(Operator)
class OperatorAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "supports_esim", "supports_recharge", "ordering"]
    inlines = [OperatorPrefixInline]


@admin.register(Provider)
class ProviderAdmin(AuditedModelAdmin):
    list_display = ["name", "adapter", "is_active"]


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0


@admin.register(Plan)
class PlanAdmin(AuditedModelAdmin):
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
    inlines = [PlanPriceInline]


@admin.register(PartnerPriceRule)
class PartnerPriceRuleAdmin(AuditedModelAdmin):
    list_display = ["tier", "operator", "plan", "discount_percent"]
    list_filter = ["tier"]
    list_select_related = ["operator", "plan"]


@admin.register(Promotion)
class PromotionAdmin(AuditedModelAdmin):
    list_display = [
        "code",
        "percent_off",
        "amount_off",
        "amount_currency",
        "starts_at",
        "ends_at",
        "is_active",
    ]
    search_fields = ["code"]


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
    list_filter = ["provider", "outcome", "operation"]
    list_select_related = ["provider"]
    search_fields = ["reference"]
    date_hierarchy = "started_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
