"""Reminders and messages sent to customers, in the admin (read-only)."""

from django.contrib import admin

from core.admin.audit import AuditedModelAdmin
from core.admin.paging import EstimatedCountPaginator
from orders.models import Notification


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
