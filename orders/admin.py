from django.contrib import admin

from orders.models import (
    AutoRenewal,
    AutoRenewalCharge,
    Order,
    Payment,
    ProvisioningAttempt,
    Refund,
    ReplacementTicket,
    SavedPaymentMethod,
    Sim,
    WalletEntry,
    WebhookEvent,
)


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = ["gateway", "method", "status", "amount", "currency", "external_reference"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class ProvisioningAttemptInline(admin.TabularInline):
    model = ProvisioningAttempt
    fields = ["number", "operation", "outcome", "started_at", "finished_at", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "kind",
        "status",
        "customer",
        "partner",
        "total",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "kind", "currency"]
    list_select_related = ["customer", "partner"]
    search_fields = ["number", "customer__email", "recharge_msisdn"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ["number", "status", "paid_at", "fulfilled_at", "created_at", "updated_at"]
    raw_id_fields = ["customer", "partner", "plan", "sim", "promotion"]
    inlines = [PaymentInline, ProvisioningAttemptInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "gateway", "status", "amount", "currency", "created_at"]
    list_filter = ["gateway", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "external_reference"]
    readonly_fields = ["status"]
    raw_id_fields = ["order"]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["id", "payment", "amount", "currency", "status", "created_at"]
    readonly_fields = ["status"]
    raw_id_fields = ["payment", "created_by"]


@admin.register(Sim)
class SimAdmin(admin.ModelAdmin):
    list_display = [
        "iccid",
        "msisdn",
        "operator",
        "form",
        "status",
        "owner",
        "partner",
        "expires_at",
    ]
    list_filter = ["status", "form", "operator"]
    list_select_related = ["operator", "owner", "partner"]
    search_fields = ["iccid", "msisdn", "owner__email"]
    show_full_result_count = False
    readonly_fields = ["status"]
    raw_id_fields = ["owner", "partner", "issued_by_order", "current_plan", "replaced_by"]


@admin.register(ProvisioningAttempt)
class ProvisioningAttemptAdmin(admin.ModelAdmin):
    list_display = ["order", "number", "operation", "outcome", "started_at", "finished_at"]
    list_filter = ["outcome", "operation"]
    list_select_related = ["order"]
    search_fields = ["order__number", "reference"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["source", "event_type", "event_id", "received_at", "processed_at"]
    list_filter = ["source", "event_type"]
    search_fields = ["event_id"]


@admin.register(WalletEntry)
class WalletEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "partner", "kind", "amount", "currency", "order", "reason"]
    list_filter = ["kind", "partner"]
    list_select_related = ["partner", "order"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReplacementTicket)
class ReplacementTicketAdmin(admin.ModelAdmin):
    list_display = ["id", "sim", "reason", "status", "created_at"]
    list_filter = ["status", "reason"]
    list_select_related = ["sim__operator"]
    readonly_fields = ["status"]
    raw_id_fields = ["sim", "requested_by", "partner", "identity_check", "order", "new_sim"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services; staff read them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AutoRenewal)
class AutoRenewalAdmin(ReadOnlyAdmin):
    list_display = ["sim", "enabled", "plan", "currency", "payment_method", "updated_at"]
    list_filter = ["enabled"]
    list_select_related = ["sim__operator", "plan", "payment_method"]
    search_fields = ["sim__iccid", "sim__owner__email"]


@admin.register(AutoRenewalCharge)
class AutoRenewalChargeAdmin(ReadOnlyAdmin):
    list_display = ["auto_renewal", "period_key", "status", "attempts", "order", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["auto_renewal__sim__operator", "order"]
    search_fields = ["auto_renewal__sim__iccid", "order__number"]


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["customer", "gateway", "label", "saved_at", "revoked_at"]
    list_filter = ["gateway"]
    list_select_related = ["customer"]
    search_fields = ["customer__email"]
