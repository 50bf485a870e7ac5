from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.admin import library  # noqa: F401  (registers itself)
from accounts.models import ApiKey, CustomerProfile, Partner, User
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
        (_("Personal info"), {"fields": ["first_name", "last_name", "phone"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
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
    """The wallet's balance, link and form are added by orders (``orders.admin.wallet``)."""

    list_display = ["name", "tier", "currency", "credit_limit", "is_active"]
    list_filter = ["tier", "is_active"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    # Credit terms are set by hand; the currency is chosen once, as the wallet ledger is kept in
    # it. The balance moves only through the wallet form (a ledger entry, by a service).
    staff_set_fields = ["credit_limit", "low_balance_threshold"]
    set_on_add_fields = ["currency"]
    inlines = [ApiKeyInline]
    actions = ["issue_key"]

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
