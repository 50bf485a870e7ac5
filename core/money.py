"""Money: exact decimals with an ISO currency beside them. No floats, ever."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Currency(models.TextChoices):
    PKR = "PKR", _("Pakistani rupee")
    USD = "USD", _("US dollar")
    CNY = "CNY", _("Chinese yuan")


# Digits after the decimal point of each currency's minor unit (Stripe charges PKR in paisa).
MINOR_UNIT_EXPONENT = {Currency.PKR: 2, Currency.USD: 2, Currency.CNY: 2}

# Costs from upstreams can be finer than a cent (1/10000 USD), so columns keep four places.
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 4


def money_field(**kwargs) -> models.DecimalField:
    """A model column for an amount of money (its currency lives in a sibling column)."""
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def currency_field(**kwargs) -> models.CharField:
    """A model column holding an ISO 4217 currency code."""
    return models.CharField(max_length=3, choices=Currency.choices, **kwargs)


def _exponent(currency: str) -> int:
    try:
        return MINOR_UNIT_EXPONENT[Currency(currency)]
    except ValueError:
        raise ValueError(f"Unsupported currency: {currency!r}") from None


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the currency's minor unit, half up."""
    if not isinstance(amount, Decimal):
        raise TypeError("Money amounts must be Decimal.")
    return amount.quantize(Decimal(1).scaleb(-_exponent(currency)), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Amount in the currency's smallest unit (what Stripe expects), rounded half up."""
    return int(quantize(amount, currency).scaleb(_exponent(currency)))


def from_minor_units(minor: int, currency: str) -> Decimal:
    """Inverse of :func:`to_minor_units`."""
    if not isinstance(minor, int):
        raise TypeError("Minor units must be an int.")
    return Decimal(minor).scaleb(-_exponent(currency))


def format_money(amount: Decimal, currency: str) -> str:
    """Display form, e.g. ``PKR 1,250.00``."""
    return f"{currency} {quantize(amount, currency):,}"


def show_money(amount, currency: str) -> str | None:
    """``amount`` with its currency in the currency's minor units (``CNY 2.99``); an upstream
    cost finer than that keeps its digits (``USD 0.0125``), an amount without a known currency
    shows as stored, and none shows nothing."""
    if amount is None:
        return None
    if isinstance(amount, int):
        amount = Decimal(amount)
    if currency not in Currency.values:
        return str(amount)
    if quantize(amount, currency) != amount:
        return f"{currency} {amount.normalize():,f}"
    return format_money(amount, currency)
