"""Read-only admin of what upstreams saw: the sandbox's orders and every call to a real one."""

from django.contrib import admin

from core.admin.audit import AuditedModelAdmin
from core.admin.filters import RecentValuesFilter
from core.admin.paging import EstimatedCountPaginator
from plans.models import ProviderCall, SandboxOrder


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
