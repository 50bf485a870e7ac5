"""Admin edits write the audit trail: who added, changed or deleted what, with before and after."""

import datetime
from decimal import Decimal

from django.contrib import admin
from django.db import models

from portal import audit

HIDDEN_FIELDS = {"password"}


class AuditedAdminMixin:
    """Records an audit entry for every add, change and delete made through this admin."""

    def save_model(self, request, obj, form, change):
        fields = [name for name in form.changed_data if name not in HIDDEN_FIELDS]
        before = {name: plain(form.initial.get(name)) for name in fields} if change else {}
        super().save_model(request, obj, form, change)
        after = {name: plain(form.cleaned_data.get(name)) for name in fields}
        _record(request, obj, "changed" if change else "added", before, after)

    def delete_model(self, request, obj):
        _record(request, obj, "deleted", snapshot(obj), {})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _record(request, obj, "deleted", snapshot(obj), {})
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        deleted = [f.instance for f in formset.deleted_forms if f.instance.pk]
        before = {
            f.instance.pk: {name: plain(f.initial.get(name)) for name in f.changed_data}
            for f in formset.initial_forms
            if f.instance.pk and f.has_changed() and f not in formset.deleted_forms
        }
        for obj in deleted:
            _record(request, obj, "deleted", snapshot(obj), {})
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _record(request, obj, "added", {}, snapshot(obj))
        for obj, fields in formset.changed_objects:
            after = {name: plain(getattr(obj, name, None)) for name in fields}
            _record(request, obj, "changed", before.get(obj.pk, {}), after)


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The ModelAdmin every admin page in the portal uses."""


def snapshot(obj: models.Model) -> dict:
    """The object's concrete field values, JSON-ready (secrets left out)."""
    return {
        field.attname: plain(getattr(obj, field.attname))
        for field in obj._meta.concrete_fields
        if field.name not in HIDDEN_FIELDS
    }


def plain(value):
    """A JSON-ready form of a form or model value (objects become their primary key)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if value is None or isinstance(value, bool | int | float | str | dict):
        return value
    return str(value)


def _record(request, obj, verb: str, before: dict, after: dict) -> None:
    audit.record(
        action=f"admin.{obj._meta.model_name}.{verb}",
        target=obj,
        actor=request.user,
        before=before,
        after=after,
    )
