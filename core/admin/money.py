"""Money in the admin: every money column, in lists and read-only on pages, in its currency's
minor units (``CNY 2.99``, not ``2.9900``), through ``core.money.show_money``; phone numbers
beside them in the national format (``core.admin.phone``); editable amounts as inputs in minor
units (``core.admin.money_inputs``)."""

from functools import cache

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.admin.money_inputs import with_minor_units
from core.admin.phone import phone_column
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, show_money


def is_amount_field(field) -> bool:
    """A decimal column made by ``core.money.money_field``."""
    return isinstance(field, models.DecimalField) and (field.max_digits, field.decimal_places) == (
        MONEY_MAX_DIGITS,
        MONEY_DECIMAL_PLACES,
    )


def currency_of(model, name: str) -> str | None:
    """The column holding ``name``'s currency: ``<prefix>_currency`` (``cost`` →
    ``cost_currency``), else ``currency``."""
    for candidate in (f"{name.split('_')[0]}_currency", "currency"):
        try:
            model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
        return candidate
    return None


@cache
def money_column(model, name: str):
    """The display callable that shows ``model.name`` as money, or None if it is not money."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    currency = currency_of(model, name)
    if not is_amount_field(field) or currency is None:
        return None

    @admin.display(description=field.verbose_name, ordering=name)
    def column(obj):
        return show_money(getattr(obj, name), getattr(obj, currency))

    column.__name__ = column.__qualname__ = name
    column.shown_field = name
    return column


def amount_inputs(model) -> list[tuple[str, str]]:
    """``[(amount, its currency column), …]``: the model's money amounts with a currency."""
    pairs = []
    for field in model._meta.concrete_fields:
        currency = currency_of(model, field.name) if is_amount_field(field) else None
        if currency:
            pairs.append((field.name, currency))
    return pairs


def as_money(model, names):
    """``names`` with each money and phone column replaced by its display callable."""
    return [
        (money_column(model, name) or phone_column(model, name) or name)
        if isinstance(name, str)
        else name
        for name in names
    ]


class MoneyDisplayMixin:
    """Shows the model's money and phone columns formatted in list columns and read-only fields
    (editable ones stay inputs, money ones in minor units). The subclass's
    ``get_readonly_fields`` returns them through :func:`as_money` (``ServiceFieldsMixin``, in
    every portal admin page and inline)."""

    def get_list_display(self, request):
        return as_money(self.model, super().get_list_display(request))

    def get_form(self, request, obj=None, **kwargs):
        return with_minor_units(super().get_form(request, obj, **kwargs), amount_inputs(self.model))

    def get_formset(self, request, obj=None, **kwargs):
        """For inlines: their rows' amounts in minor units too."""
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = with_minor_units(formset.form, amount_inputs(self.model))
        return formset

    def get_exclude(self, request, obj=None):
        """The columns shown read-only as money stay out of the form."""
        shown = [
            field.shown_field
            for field in self.get_readonly_fields(request, obj)
            if hasattr(field, "shown_field")
        ]
        excluded = list(super().get_exclude(request, obj) or ())
        return excluded + [name for name in shown if name not in excluded] or None

    def get_fields(self, request, obj=None):
        return self._shown_as_money(request, obj, super().get_fields(request, obj))

    def get_fieldsets(self, request, obj=None):
        return [
            (title, {**options, "fields": self._shown_as_money(request, obj, options["fields"])})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def _shown_as_money(self, request, obj, fields):
        readonly = {
            field.shown_field: field
            for field in self.get_readonly_fields(request, obj)
            if hasattr(field, "shown_field")
        }
        return [
            tuple(readonly.get(name, name) for name in field)
            if isinstance(field, list | tuple)
            else readonly.get(field, field)
            for field in fields
        ]
