"""Editable amounts in admin forms in their currency's minor units: ``2.99``, not the stored
``2.9900``; more decimals than the currency has are refused with a form error. An upstream
``cost`` may be finer (``USD 0.0125``): it is shown trimmed when exact and accepted as given."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _

from core.money import MINOR_UNIT_EXPONENT, Currency, quantize

#: Amounts an upstream may price finer than the currency's minor unit.
FINER_AMOUNTS = frozenset({"cost"})


class MinorUnitsForm(forms.BaseForm):
    """Mixed into an admin's model form by :func:`with_minor_units`."""

    #: ``[(amount field, currency field), …]`` of the model, set by :func:`with_minor_units`.
    money_inputs: tuple[tuple[str, str], ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, currency_name in self.money_inputs:
            value = self.initial.get(name)
            currency = self.initial.get(currency_name) or getattr(self.instance, currency_name, "")
            if isinstance(value, Decimal) and currency in Currency.values:
                shown = quantize(value, currency)
                if shown == value:
                    self.initial[name] = shown

    def clean(self):
        cleaned = super().clean()
        for name, currency_name in self.money_inputs:
            value = cleaned.get(name)
            currency = cleaned.get(currency_name) or getattr(self.instance, currency_name, "")
            if name in FINER_AMOUNTS or value is None or currency not in Currency.values:
                continue
            if value != quantize(value, currency):
                places = MINOR_UNIT_EXPONENT[Currency(currency)]
                self.add_error(
                    name,
                    _("Amounts in %(currency)s have at most %(places)d decimals.")
                    % {"currency": currency, "places": places},
                )
        return cleaned


def with_minor_units(form_class, money_inputs):
    """``form_class`` showing and checking the amounts ``money_inputs`` lists that it edits."""
    fields = form_class.base_fields
    inputs = tuple((name, currency) for name, currency in money_inputs if name in fields)
    if not inputs:
        return form_class
    return type(form_class)(
        form_class.__name__, (MinorUnitsForm, form_class), {"money_inputs": inputs}
    )
