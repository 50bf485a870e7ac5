"""Strict cell readers for the catalog import, and the per-currency price columns.

import-export's own widgets turn "yes" into False and raise arithmetic errors on "abc"; these
raise a ValueError with a message for the staff member, which the import shows on the row's field.
Text files get plain strings; XLSX gets native numbers and booleans. Nothing here writes: the
rows are saved by ``plans.services.catalog_import``.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from import_export import fields, widgets

from core.money import Currency
from plans.models import Plan, PlanPrice

PRICE_COLUMNS = {f"price_{currency.lower()}": currency for currency in Currency.values}


def is_blank(value) -> bool:
    """An empty cell: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def plain_decimal(value: Decimal) -> str:
    """``1300.0000`` as ``1300`` and ``4.9900`` as ``4.99``: no exponent, no trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class TextWidget(widgets.CharWidget):
    """Text with surrounding spaces removed; whole numbers from a spreadsheet without ``.0``."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return (super().clean(value, row, **kwargs) or "").strip()


class MoneyWidget(widgets.Widget):
    """An exact decimal amount, e.g. ``1250.50``."""

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, bool):
            raise ValueError(_("Enter an amount, e.g. 1250.50."))
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(_("Enter an amount, e.g. 1250.50.")) from None
        if not amount.is_finite():
            raise ValueError(_("Enter an amount, e.g. 1250.50."))
        return amount

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else plain_decimal(value)


class WholeNumberWidget(widgets.Widget):
    """A whole number, e.g. ``10240``."""

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = str(value).strip()
        if text.isdigit() and len(text) <= 12:
            return int(text)
        raise ValueError(_("Enter a whole number, e.g. 10240."))

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    """1 or 0 (true/false and yes/no are read too); empty takes the field's default."""

    TRUE = {"1", "true", "yes", "y"}
    FALSE = {"0", "false", "no", "n"}

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("Enter 1 for yes or 0 for no."))

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else ("1" if value else "0")


class LookupWidget(widgets.Widget):
    """A related object by a unique natural field (an operator's code, a provider's name).

    The related table is small, so it is read once per import.
    """

    def __init__(self, model, field: str, label):
        super().__init__()
        self.model = model
        self.field = field
        self.label = label
        self._objects = None

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        key = force_str(value).strip()
        if self._objects is None:
            self._objects = {str(getattr(o, self.field)): o for o in self.model.objects.all()}
        try:
            return self._objects[key]
        except KeyError:
            known = ", ".join(sorted(self._objects)) or "—"
            raise ValueError(
                _("No %(model)s “%(value)s”. Use one of: %(known)s.")
                % {"model": self.label, "value": key, "known": known}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else getattr(value, self.field)


def prices_of(plan: Plan) -> dict[str, Decimal]:
    """The plan's retail prices by currency, read once and kept on the instance."""
    prices = plan.__dict__.get("_catalog_prices")
    if prices is None:
        prices = {p.currency: p.amount for p in plan.prices.all()} if plan.pk else {}
        plan._catalog_prices = prices
    return prices


class PriceField(fields.Field):
    """The retail price in one currency, kept as a PlanPrice row.

    An empty cell leaves the plan's price in that currency as it is (a new plan gets none).
    """

    def __init__(self, currency: str):
        column = f"price_{currency.lower()}"
        super().__init__(attribute=column, column_name=column, widget=MoneyWidget())
        self.currency = currency

    def get_value(self, instance):
        return prices_of(instance).get(self.currency)

    def save(self, instance, row, is_m2m=False, **kwargs):
        amount = self.clean(row, **kwargs)
        if amount is None:
            return
        try:
            amount = PlanPrice._meta.get_field("amount").clean(amount, None)
        except ValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
        prices_of(instance)[self.currency] = amount
