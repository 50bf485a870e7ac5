"""The audit trail in the admin: staff with the permission read it; nobody edits it."""

from django.contrib import admin

from core.admin.audit import ALL_FIELDS, ServiceFieldsMixin
from core.admin.filters import IndexedValuesFilter
from core.admin.paging import EstimatedCountPaginator
from core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ServiceFieldsMixin, admin.ModelAdmin):
    """Readable by staff with the permission; never editable or deletable (and not audited:
    the trail does not record itself)."""

    list_display = ["created_at", "actor", "actor_label", "action", "target_repr"]
    list_filter = [("action", IndexedValuesFilter), "target_type", "created_at"]
    list_select_related = ["actor"]
    search_fields = ["target_repr", "target_id", "actor__email", "actor_label"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    service_fields = ALL_FIELDS
    service_rows = True

    def has_change_permission(self, request, obj=None):
        return False
