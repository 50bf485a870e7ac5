from django.contrib import admin

from portal.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Readable by staff with the permission; never editable or deletable."""

    list_display = ["created_at", "actor", "actor_label", "action", "target_repr"]
    list_filter = ["action", "target_type"]
    list_select_related = ["actor"]
    search_fields = ["target_repr", "target_id", "actor__email", "actor_label"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
