"""Phone numbers in the admin as staff read them: Pakistani ones in the national format
(``0300 1234567``) in list columns and read-only fields; stored values stay E.164."""

from functools import cache

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.phone import national_number


def is_phone_field(field) -> bool:
    """A text column holding a phone number in E.164 (``phone``, ``msisdn``, ``…_msisdn``)."""
    return isinstance(field, models.CharField) and (
        field.name == "phone" or field.name.endswith("msisdn")
    )


@cache
def phone_column(model, name: str):
    """The display callable that shows ``model.name`` nationally, or None if it is no phone."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not is_phone_field(field):
        return None

    @admin.display(description=field.verbose_name, ordering=name, empty_value="-")
    def column(obj):
        return national_number(getattr(obj, name) or "") or None

    column.__name__ = column.__qualname__ = name
    column.shown_field = name
    return column
