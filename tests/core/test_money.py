"""Money is exact: Decimal amounts, integer minor units, never a float."""

from decimal import Decimal
from fractions import Fraction

import pytest
from django.apps import apps
from django.db import models
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    Currency,
    from_minor_units,
    quantize,
    to_minor_units,
)

currencies = st.sampled_from(list(Currency))
# Far beyond any real amount, and well inside Decimal's default 28-digit precision.
minor_amounts = st.integers(min_value=-(10**18), max_value=10**18)
amounts = st.decimals(
    min_value=Decimal("-1e12"),
    max_value=Decimal("1e12"),
    allow_nan=False,
    allow_infinity=False,
    places=6,
)

MONEY_NAME_PARTS = {
    "amount",
    "total",
    "cost",
    "price",
    "subtotal",
    "discount",
    "credit",
    "threshold",
}


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, ties away from zero (Decimal's ROUND_HALF_UP)."""
    magnitude = abs(value)
    rounded = int(magnitude + Fraction(1, 2))  # int() truncates; magnitude is non-negative
    return rounded if value >= 0 else -rounded


@given(minor_amounts, currencies)
def test_minor_units_round_trip(minor, currency):
    amount = from_minor_units(minor, currency)

    assert isinstance(amount, Decimal)
    assert to_minor_units(amount, currency) == minor


@given(amounts, currencies)
def test_quantize_is_idempotent(amount, currency):
    once = quantize(amount, currency)

    assert quantize(once, currency) == once
    assert once.as_tuple().exponent == -2


@given(amounts, currencies)
def test_to_minor_units_rounds_half_up(amount, currency):
    expected = round_half_up(Fraction(amount) * 100)

    assert to_minor_units(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        (Decimal("1.005"), 101),
        (Decimal("1.0049"), 100),
        (Decimal("-1.005"), -101),
        (Decimal("0.004"), 0),
        (Decimal("1250"), 125000),
    ],
)
def test_to_minor_units_examples(amount, minor):
    assert to_minor_units(amount, Currency.PKR) == minor


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: quantize(1.5, "PKR"), id="quantize"),
        pytest.param(lambda: to_minor_units(0.1, "USD"), id="to_minor_units"),
        pytest.param(lambda: from_minor_units(150.0, "CNY"), id="from_minor_units"),
        pytest.param(lambda: from_minor_units(Decimal(150), "CNY"), id="from_minor_units-decimal"),
    ],
)
def test_wrong_numeric_types_are_refused(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: quantize(Decimal("1"), c), id="quantize"),
        pytest.param(lambda c: to_minor_units(Decimal("1"), c), id="to_minor_units"),
        pytest.param(lambda c: from_minor_units(100, c), id="from_minor_units"),
    ],
)
@pytest.mark.parametrize("currency", ["JPY", "pkr", ""])
def test_unknown_currencies_are_refused(call, currency):
    with pytest.raises(ValueError, match="Unsupported currency"):
        call(currency)


# --- The schema ------------------------------------------------------------------------------


def all_fields():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if isinstance(field, models.Field):
                yield model, field


def looks_like_money(name: str) -> bool:
    parts = set(name.split("_"))
    return bool(parts & MONEY_NAME_PARTS) and "percent" not in parts


def test_no_model_field_is_a_float():
    floats = [
        f"{model._meta.label}.{field.name}"
        for model, field in all_fields()
        if isinstance(field, models.FloatField)
    ]

    assert floats == []


def test_money_columns_are_money_fields():
    money = {
        f"{model._meta.label}.{field.name}": field
        for model, field in all_fields()
        if isinstance(field, models.DecimalField) and looks_like_money(field.name)
    }

    # Guard against the check silently matching nothing.
    assert {"orders.Order.total", "orders.Payment.amount", "plans.Plan.cost"} <= set(money)
    assert "accounts.Partner.credit_limit" in money
    wrong = {
        label: (field.max_digits, field.decimal_places)
        for label, field in money.items()
        if (field.max_digits, field.decimal_places) != (MONEY_MAX_DIGITS, MONEY_DECIMAL_PLACES)
    }
    assert wrong == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("amount", True),
        ("airtime_amount", True),
        ("credit_limit", True),
        ("low_balance_threshold", True),
        ("discount_percent", False),
        ("percent_off", False),
        ("quantity", False),
    ],
)
def test_money_name_heuristic(name, expected):
    assert looks_like_money(name) is expected
