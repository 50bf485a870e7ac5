"""Filters shared by the API's list endpoints."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time turned into UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(_("This time is out of range."), code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request gives none of the filter set's
    parameters: with no value, no filter applies, so building the filter set and its form would
    only return the queryset as it came."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any_filter_given(filterset_class, request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


def any_filter_given(filterset_class, params) -> bool:
    """Whether ``params`` may set a filter of ``filterset_class`` (a parameter named after one,
    also with a widget's suffix), or the filter set must run anyway (a required filter, its own
    ``filter_queryset``)."""
    filters = filterset_class.base_filters
    base = django_filters.FilterSet
    if (
        filterset_class.filter_queryset is not base.filter_queryset
        or filterset_class.qs is not base.qs
        or any(f.extra.get("required") for f in filters.values())
    ):
        return True
    return any(param.startswith(name) for param in params for name in filters)


def filters_skipped(request, view) -> bool:
    """Whether the view's filter backends leave its queryset as it is for this request: only
    :class:`FilterBackend`, and a filter set class given none of its parameters."""
    if any(backend is not FilterBackend for backend in view.filter_backends):
        return False
    if getattr(view, "filterset_fields", None):
        return False
    filterset_class = getattr(view, "filterset_class", None)
    return filterset_class is None or not any_filter_given(filterset_class, request.query_params)
