"""Partner webhooks in the admin: endpoints (switch off) and the delivery log (redeliver)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin.audit import AuditedModelAdmin, ServiceFieldsMixin
from core.admin.paging import EstimatedCountPaginator
from orders.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orders.partner_webhooks import services as webhooks


class WebhookAttemptInline(ServiceFieldsMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "url", "outcome", "status_code", "duration_ms", "error", "started_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedModelAdmin):
    """Partners add endpoints through the API (the secret is shown to them once, never here)."""

    list_display = ["url", "partner", "is_active", "disabled_reason", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["partner"]
    search_fields = ["url", "partner__name", "partner__slug"]
    fields = ["partner", "url", "events", "is_active", "disabled_reason", "created_at"]
    readonly_fields = fields
    actions = ["switch_off"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_switch_off_permission(self, request):
        return request.user.has_perm("orders.change_webhookendpoint")

    @admin.action(description=_("Switch off (nothing more is sent)"), permissions=["switch_off"])
    def switch_off(self, request, queryset):
        for endpoint in queryset:
            webhooks.disable_endpoint(endpoint.pk, "Switched off by our staff.", request.user)
        self.message_user(request, _("Switched off."), messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AuditedModelAdmin):
    """The delivery log, read-only; staff may send a delivery again."""

    list_display = [
        "event_type",
        "partner",
        "url",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["partner"]
    search_fields = ["=event_id", "url", "partner__slug"]
    readonly_fields = [
        "partner",
        "endpoint",
        "url",
        "event_id",
        "event_type",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_duration_ms",
        "last_error",
        "created_at",
        "delivered_at",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return request.user.has_perm("orders.change_webhookdelivery")

    @admin.action(description=_("Redeliver"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent, refused = 0, 0
        for delivery in queryset:
            try:
                webhooks.redeliver(delivery=delivery, actor=request.user)
                sent += 1
            except webhooks.WebhookError:
                refused += 1
        if sent:
            message = _("Deliveries queued to be sent again: %(count)d.")
            self.message_user(request, message % {"count": sent}, messages.SUCCESS)
        if refused:
            message = _("Deliveries not sent because their endpoint is switched off: %(count)d.")
            self.message_user(request, message % {"count": refused}, messages.WARNING)
