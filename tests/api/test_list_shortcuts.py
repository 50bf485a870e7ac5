"""The list endpoints' shortcuts answer as the long way would: the filter set skipped when no
filter parameter is given, times and amounts formatted as the declared field formats them."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from unittest import mock

import django_filters
import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from core.api.filters import any_filter_given
from orders.api.orders import OrderFilter
from orders.api.serializers import (
    OrderSerializer,
    SimSerializer,
    decimal_texts,
    declared_field,
    iso_times,
)
from plans.api.filters import PlanFilter

pytestmark = pytest.mark.django_db


def test_no_filter_parameter_builds_no_filter_set(api_client):
    with mock.patch.object(OrderFilter, "__init__", side_effect=AssertionError("built")):
        assert api_client.get("/api/v1/orders/?page_size=5").status_code == 200
        with pytest.raises(AssertionError, match="built"):
            api_client.get("/api/v1/orders/?status=paid")


@pytest.mark.parametrize(
    ("params", "given"),
    [
        ({}, False),
        ({"page_size": "5", "cursor": "x"}, False),
        ({"status": "paid"}, True),
        ({"created_after": ""}, True),
        ({"created_after_0": "x"}, True),
    ],
)
def test_a_filter_parameter_is_any_named_after_a_filter(params, given):
    assert any_filter_given(OrderFilter, params) is given


def test_a_filter_set_that_must_run_is_never_skipped():
    class Required(django_filters.FilterSet):
        status = django_filters.CharFilter(required=True)

    class Own(PlanFilter):
        def filter_queryset(self, queryset):
            return queryset

    assert any_filter_given(Required, {})
    assert any_filter_given(Own, {})


def assert_answers_as_the_field(represent, field, values) -> None:
    """``represent`` answers each value as ``field.to_representation``, or raises as it does."""
    for value in values:
        try:
            expected = field.to_representation(value)
        except Exception as exc:
            with pytest.raises(type(exc)):
                represent(value)
        else:
            assert represent(value) == expected


@pytest.mark.parametrize("zone", ["Asia/Karachi", "UTC"])
def test_iso_times_are_the_fields_representation(zone, settings):
    settings.TIME_ZONE = zone
    field = declared_field(SimSerializer, "expires_at")
    values = [
        None,
        datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 6, 1, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 12, 2, 9, 30),
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    ]
    with django_timezone.override(zone):
        assert_answers_as_the_field(iso_times(field), field, values)


@pytest.mark.parametrize(
    "field",
    [
        declared_field(OrderSerializer, "total"),
        serializers.DecimalField(max_digits=5, decimal_places=1, rounding=ROUND_DOWN),
        serializers.DecimalField(max_digits=12, decimal_places=2, normalize_output=True),
        serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False),
    ],
)
def test_decimal_texts_are_the_fields_representation(field):
    values = [
        *(None, 7, 2.5, Decimal("517.96"), Decimal("517.9600"), Decimal("0.005")),
        *(Decimal("-0.015"), Decimal("1E+3"), Decimal("123456.789"), Decimal("9999999999.999")),
    ]
    assert_answers_as_the_field(decimal_texts(field), field, values)
