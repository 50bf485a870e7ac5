from django.contrib import admin

from portal.admin_audit import ALL_FIELDS, ServiceFieldsMixin
from portal.admin_dashboard import dashboard_context
from portal.admin_filters import IndexedValuesFilter
from portal.admin_paging import EstimatedCountPaginator
from portal.models import AuditEntry


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


_default_index = admin.site.index


def index_with_dashboard(request, extra_context=None):
    """The admin index, with the staff dashboard above the app list for those who may see it."""
    return _default_index(request, {**dashboard_context(request), **(extra_context or {})})


# The site's URLs are built after every admin module is imported, so they route to this view.
admin.site.index = index_with_dashboard
admin.site.index_template = "admin/dashboard_index.html"
