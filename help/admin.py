"""Staff write the help articles and keep the list of eSIM phones."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin.audit import AuditedModelAdmin
from help.models import Article, Device, Region


@admin.register(Article)
class ArticleAdmin(AuditedModelAdmin):
    list_display = [
        "title_zh",
        "slug",
        "group",
        "is_published",
        "helpful_count",
        "not_helpful_count",
        "updated_at",
    ]
    list_filter = ["group", "is_published"]
    search_fields = ["slug", "title_zh", "title_en"]
    service_fields = ["helpful_count", "not_helpful_count"]
    prepopulated_fields = {"slug": ["title_en"]}
    fieldsets = [
        (None, {"fields": ["slug", "group", "ordering", "is_published", "shows_apns"]}),
        (_("Chinese"), {"fields": ["title_zh", "body_zh"]}),
        (_("English"), {"fields": ["title_en", "body_en"]}),
        (_("Did this help?"), {"fields": ["helpful_count", "not_helpful_count"]}),
    ]


class DeviceForm(forms.ModelForm):
    lacks_esim_in = forms.TypedMultipleChoiceField(
        label=_("regions without eSIM"),
        choices=Region.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The versions sold in these regions have no eSIM."),
    )

    class Meta:
        model = Device
        fields = ["brand", "model", "aliases", "lacks_esim_in", "notes_zh", "notes_en"]


@admin.register(Device)
class DeviceAdmin(AuditedModelAdmin):
    form = DeviceForm
    list_display = ["brand", "model", "regions", "aliases"]
    list_filter = ["brand"]
    search_fields = ["brand", "model", "aliases"]

    @admin.display(description=_("regions without eSIM"))
    def regions(self, device: Device) -> str:
        return device.regions_without_esim()
