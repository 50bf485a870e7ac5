"""The base of every partner API view: its rows are the calling partner's, by declaration.

A view declares ``queryset`` (the model it serves) and ``partner_field`` (the lookup from a row
to its partner, ``"partner"`` by default), and may narrow or enrich its rows in
``base_queryset()``. ``get_queryset()`` belongs to the base and always filters
``base_queryset()`` to the calling partner: a view cannot override it, so a new endpoint cannot
forget the filter. Endpoints whose rows are no partner's (the catalog) say so with
``public_to_partners = True``. The contract suite in ``tests/api/contract/`` checks that every
API-key view derives from :class:`PartnerAPIView`.
"""

from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from core.api.filters import filters_skipped
from core.api.pages import CompiledRows


# No class docstring: drf-spectacular would show it as the description of every endpoint.
class PartnerAPIView(GenericAPIView):
    partner_field = "partner"
    public_to_partners = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in vars(cls):
            raise TypeError(
                f"{cls.__qualname__} overrides get_queryset(): override base_queryset() instead, "
                "which the base scopes to the calling partner."
            )

    @property
    def partner(self):
        """The calling partner (the API key's), refused when the caller is none."""
        partner = getattr(self.request.user, "partner", None)
        if partner is None:
            raise NotAuthenticated()
        return partner

    @property
    def partner_id(self) -> int:
        """The calling partner's id, known without a query; refused when the caller is none."""
        partner_id = getattr(self.request.user, "partner_id", None)
        if partner_id is None:
            raise NotAuthenticated()
        return partner_id

    def owned(self, rows, partner_field: str = "partner"):
        """``rows`` (a queryset or a model) limited to the calling partner's."""
        rows = rows._default_manager.all() if isinstance(rows, type) else rows
        return rows.filter(**{partner_field: self.partner_id})

    def base_queryset(self):
        """The view's rows before scoping; override to narrow them or to read related rows."""
        return super().get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset().none()
        rows = self.base_queryset()
        if self.public_to_partners:
            return rows
        return self.owned(rows, self.partner_field)


# A list whose page is read as values() rows (``list_rows(queryset)``, by default the values of
# ``list_columns``) and turned into the answer by ``represent_rows(rows)``: no model instance and
# no serializer per row. The view keeps its
# ``serializer_class``, which the schema documents and ``represent_rows`` must match. With
# ``compiled_pages``, an unfiltered cursor page runs SQL compiled once per shape
# (``core.api.pages``): only for a view whose ``base_queryset()`` and ``list_rows()`` build the
# same SQL for every request but for the partner. (No class docstring: drf-spectacular would show
# it as the list's description.)
class RowsListMixin:
    list_columns: tuple[str, ...] = ()
    compiled_pages = False

    def list_rows(self, queryset):
        return queryset.values(*self.list_columns)

    def represent_rows(self, rows: list[dict]) -> list[dict]:
        raise NotImplementedError

    def page_source(self):
        """What the paginator reads: the filtered rows, or their compiled stand-in."""
        if (
            self.compiled_pages
            and not self.public_to_partners
            and isinstance(self.paginator, CursorPagination)
            and filters_skipped(self.request, self)
        ):
            return CompiledRows(
                type(self),
                self.queryset.model,
                self.partner_id,
                lambda: self.list_rows(self.filter_queryset(self.get_queryset())),
            )
        return self.list_rows(self.filter_queryset(self.get_queryset()))

    def list(self, request, *args, **kwargs):
        rows = self.page_source()
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(self.represent_rows(list(rows)))
        return self.get_paginated_response(self.represent_rows(page))
