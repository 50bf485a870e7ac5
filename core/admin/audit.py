"""Admin edits write the audit trail: who added, changed or deleted what, with before and after.

And the admin reads; services write (ARCHITECTURE.md rule 11): money, state and provisioning
fields are read-only on every admin page and inline, for every role, superusers too.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.db import models

from core import audit
from core.admin.money import MoneyDisplayMixin, as_money, is_amount_field
from core.money import Currency
from core.state import TransitionMap

HIDDEN_FIELDS = {"password"}

ALL_FIELDS = "__all__"


def is_money_field(field) -> bool:
    """A column made by ``core.money.money_field`` or ``currency_field``."""
    if isinstance(field, models.DecimalField):
        return is_amount_field(field)
    return isinstance(field, models.CharField) and _choice_values(field) == set(Currency.values)


def is_state_field(model, field) -> bool:
    """The column the model's ``TRANSITIONS`` map governs (its states are the field's choices)."""
    transitions = getattr(model, "TRANSITIONS", None)
    return isinstance(transitions, TransitionMap) and _choice_values(field) == set(
        transitions.choices.values
    )


def _choice_values(field) -> set:
    return {value for value, _label in field.flatchoices} if field.choices else set()


def service_owned_fields(
    model,
    *,
    declared: Sequence[str] | str = (),
    staff_set: Sequence[str] = (),
) -> list[str]:
    """The model's fields only services write, in model order: its money and currency columns,
    its state column, and ``declared`` (provisioning, identity, links; ``ALL_FIELDS`` for a row
    that is wholly the services' record). ``staff_set`` names money columns staff price by hand
    (catalog prices, partner credit terms); state and declared fields cannot be let off."""
    every = declared == ALL_FIELDS
    named = set() if every else set(declared)
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key
        and (
            every
            or f.name in named
            or is_state_field(model, f)
            or (is_money_field(f) and f.name not in staff_set)
        )
    ]


class ServiceFieldsMixin(MoneyDisplayMixin):
    """Shows money, state and provisioning fields read-only; for admin pages and inlines alike.

    Each legitimate change to them is an action or a form of the admin that calls a service.
    """

    #: Further fields only services write (provisioning, identity, links), or ``ALL_FIELDS``.
    service_fields: Sequence[str] | str = ()
    #: Money columns staff set by hand here: catalog prices and partner terms, never state.
    staff_set_fields: Sequence[str] = ()
    #: Money columns chosen when a row is added here and fixed afterwards.
    set_on_add_fields: Sequence[str] = ()
    #: Rows only a service creates: nobody adds or deletes one here.
    service_rows = False

    def service_owned(self, *, adding: bool = False) -> list[str]:
        staff_set = [*self.staff_set_fields, *(self.set_on_add_fields if adding else ())]
        return service_owned_fields(self.model, declared=self.service_fields, staff_set=staff_set)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # For an inline, ``obj`` is the parent; its rows are never "being added" here.
        adding = obj is None and not isinstance(self, InlineModelAdmin)
        return as_money(
            self.model,
            readonly + [name for name in self.service_owned(adding=adding) if name not in readonly],
        )

    def has_add_permission(self, request, *args):
        return not self.service_rows and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if (
            isinstance(self, InlineModelAdmin)
            and self.service_rows
            and self.service_fields == ALL_FIELDS
        ):
            return False  # shown to read, like the page it sits on
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.service_rows and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Write only the columns the form changed, so a stale copy of the others (a status a
        service moved meanwhile) is never written back."""
        if not change or not self.service_owned():
            return super().save_model(request, obj, form, change)
        by_name = {f.name: f for f in obj._meta.concrete_fields if not f.primary_key}
        changed = [name for name in form.changed_data if name in by_name]
        if changed:
            touched = [name for name, f in by_name.items() if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*changed, *touched])
        return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        editable_inlines = any(
            inline.has_add_permission or inline.has_change_permission
            for inline in context["inline_admin_formsets"]
        )
        if change and not context["adminform"].form.fields and not editable_inlines:
            # Nothing here can be edited: the page reads, its actions and links write.
            context.update(
                show_save=False, show_save_and_continue=False, show_save_and_add_another=False
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


class AuditedAdminMixin(ServiceFieldsMixin):
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
    """The ModelAdmin every admin page in the portal uses: audited, service fields read-only."""


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
