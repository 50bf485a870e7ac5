"""Catalog endpoints: plans at the partner's price, with ETags."""

import hashlib

from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.api.views import PartnerAPIView
from plans.api.filters import PlanFilter, partner_catalog
from plans.api.serializers import PlanSerializer
from plans.models import Plan

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 when nothing changed.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified since the ETag in If-None-Match.")


class CatalogPagination(CursorPagination):
    """Stable cursor pages in catalog order."""

    ordering = ("ordering", "id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, or ``*``)."""
    if header.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


class ETagMixin:
    """A strong ETag over the rendered body; ``If-None-Match`` with it answers 304."""

    def finalize_response(self, request, response, *args, **kwargs):
        if request.method == "GET" and response.status_code == status.HTTP_200_OK:
            body = JSONRenderer().render(response.data)
            etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
            if etag_matches(request.headers.get("If-None-Match", ""), etag):
                response = Response(status=status.HTTP_304_NOT_MODIFIED)
            response["ETag"] = etag
            response["Cache-Control"] = "private, no-cache"
            patch_vary_headers(response, ["Authorization"])
        return super().finalize_response(request, response, *args, **kwargs)


class PartnerCatalogMixin(PartnerAPIView):
    """Plans priced for the calling partner: the catalog is every partner's, no one's rows."""

    public_to_partners = True
    queryset = Plan.objects.all()
    serializer_class = PlanSerializer

    def base_queryset(self):
        return partner_catalog(self.partner)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["currency"] = self.partner.currency
        return context


@extend_schema(
    tags=["catalog"],
    summary="List plans at your prices",
    parameters=[IF_NONE_MATCH],
    responses={200: PlanSerializer(many=True), 304: NOT_MODIFIED},
)
class PlanListView(ETagMixin, PartnerCatalogMixin, generics.ListAPIView):
    """Active plans priced in your wallet currency; plans without such a price are left out."""

    pagination_class = CatalogPagination
    filterset_class = PlanFilter


@extend_schema(
    tags=["catalog"],
    summary="Read one plan at your price",
    parameters=[IF_NONE_MATCH],
    responses={200: PlanSerializer, 304: NOT_MODIFIED},
)
class PlanDetailView(ETagMixin, PartnerCatalogMixin, generics.RetrieveAPIView):
    """One active plan priced in your wallet currency."""
