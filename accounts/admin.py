from functools import partial

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Sum
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import admin_library, webhooks  # noqa: F401  (admin_library registers itself)
from accounts.admin_review import IdentityCheckAdmin
from accounts.admin_wallet import wallet_view
from accounts.models import (
    ApiKey,
    CustomerProfile,
    IdentityCheck,
    Notification,
    Partner,
    User,
)
from accounts.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from accounts.services import issue_api_key, revoke_api_key
from core.admin.audit import AuditedAdminMixin, AuditedModelAdmin, ServiceFieldsMixin
from core.admin.paging import EstimatedCountPaginator


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "phone", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "phone", "first_name", "last_name"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal", {"fields": ["first_name", "last_name", "phone"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(CustomerProfile)
class CustomerProfileAdmin(AuditedModelAdmin):
    list_display = ["user", "preferred_language", "notify_by_email", "notify_by_sms"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    service_fields = ["identity_flagged"]  # set by the identity review on repeated rejections


class ApiKeyInline(ServiceFieldsMixin, admin.TabularInline):
    model = ApiKey
    fields = ["name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(AuditedModelAdmin):
    list_display = [
        "name",
        "tier",
        "currency",
        "balance",
        "credit_limit",
        "wallet_link",
        "is_active",
    ]
    list_filter = ["tier", "is_active"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    # Credit terms are set by hand; the currency is chosen once, as the wallet ledger is kept in
    # it. The balance moves only through the wallet form (a ledger entry, by a service).
    staff_set_fields = ["credit_limit", "low_balance_threshold"]
    set_on_add_fields = ["currency"]
    inlines = [ApiKeyInline]
    actions = ["issue_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ledger_balance=Sum("wallet_entries__amount"))

    @admin.display(description=_("Balance"), ordering="ledger_balance")
    def balance(self, partner):
        return partner.ledger_balance or 0

    @admin.display(description=_("Wallet"))
    def wallet_link(self, partner):
        url = reverse("admin:accounts_partner_wallet", args=[partner.pk])
        return format_html('<a href="{}">{}</a>', url, _("Credit or debit"))

    def get_urls(self):
        view = self.admin_site.admin_view(partial(wallet_view, self))
        return [path("<int:pk>/wallet/", view, name="accounts_partner_wallet"), *super().get_urls()]

    @admin.action(description=_("Issue a new API key (shown once)"), permissions=["change"])
    def issue_key(self, request, queryset):
        for partner in queryset:
            issued = issue_api_key(
                partner=partner, name="Issued in the admin", created_by=request.user
            )
            messages.warning(
                request,
                _("New API key for %(partner)s — copy it now, it will not be shown again: %(key)s")
                % {"partner": partner, "key": issued.plaintext},
            )


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedModelAdmin):
    list_display = [
        "prefix",
        "partner",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["partner"]
    list_select_related = ["partner"]
    search_fields = ["prefix", "partner__name", "name"]
    fields = [
        "partner",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "expires_at",
        "allowed_ips",
        "revoked_at",
        "last_used_at",
    ]
    readonly_fields = [
        "partner",
        "prefix",
        "created_at",
        "created_by",
        "revoked_at",
        "last_used_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are issued from the partner list, where the secret is shown once

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for api_key in queryset:
            revoke_api_key(api_key=api_key, actor=request.user)
        messages.success(request, _("Revoked."))


admin.site.register(IdentityCheck, IdentityCheckAdmin)


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
        return request.user.has_perm("accounts.change_webhookendpoint")

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
        return request.user.has_perm("accounts.change_webhookdelivery")

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


@admin.register(Notification)
class NotificationAdmin(AuditedModelAdmin):
    """Reminders and messages sent to customers (read-only)."""

    list_display = [
        "created_at",
        "user",
        "partner",
        "kind",
        "sim",
        "channels",
        "sent_at",
        "read_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["user", "partner", "sim__operator"]
    search_fields = ["user__email", "sim__iccid"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
