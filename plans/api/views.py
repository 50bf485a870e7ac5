"""Catalog endpoints: plans at the partner's price, with ETags."""

import hashlib
import logging

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from core.api.pagination import CheckedCursorPagination
from core.api.views import PartnerAPIView
from core.cache import CACHE_ERRORS
from plans.api.filters import PlanFilter, partner_catalog
from plans.api.serializers import PlanSerializer
from plans.models import Plan
from plans.services import catalog_memo, catalog_version

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 when nothing changed.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified since the ETag in If-None-Match.")
ANSWER_PREFIX = "catalog:answer:"
ANSWER_TTL_SECONDS = 10 * 60
CACHED_STATUSES = (status.HTTP_200_OK, status.HTTP_304_NOT_MODIFIED)
logger = logging.getLogger(__name__)


class CatalogPagination(CheckedCursorPagination):
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
    """ETags and bodies from the catalog version, never from rendering.

    The ETag hashes the catalog version (:mod:`plans.services.catalog_version`, read with the
    API key in the gate's round trip), the partner's pricing (tier and currency, from the key's
    record: price rules are per tier), the language, the media type and the full URL (cursor
    links are absolute). ``If-None-Match`` with it answers 304 before any catalog query. A 200
    is rendered once and kept under the same hash, in the process for as long as the version
    holds (:mod:`plans.services.catalog_memo`) and in the shared cache for other processes.
    When the cache does not answer, answers are rendered each time and carry no ETag.
    """

    catalog_key = catalog_version_read = None

    def get(self, request, *args, **kwargs):
        version = catalog_version.of_request(request) if request.method == "GET" else None
        if version is None:
            return super().get(request, *args, **kwargs)
        self.catalog_version_read = version
        self.catalog_key = key = self._catalog_key(request, version)
        header = request.headers.get("If-None-Match", "")
        if header.strip() != "*" and etag_matches(header, self._etag()):
            return HttpResponseNotModified()  # nothing to render
        kept = catalog_memo.recalled(version, key)
        if kept is None and (kept := _shared_answer(key)) is not None:
            catalog_memo.keep(version, key, kept)
        if kept is not None:
            content, content_type = kept
            return HttpResponse(content, content_type=content_type)
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        header = request.headers.get("If-None-Match", "")
        fresh = self.catalog_key and response.status_code == status.HTTP_200_OK
        if fresh and header and etag_matches(header, self._etag()):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)  # "*" names any answer
        if self.catalog_key and response.status_code in CACHED_STATUSES:
            response["ETag"] = self._etag()
            response["Cache-Control"] = "private, no-cache"
            patch_vary_headers(response, ["Authorization"])
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.catalog_key and isinstance(response, Response) and response.status_code == 200:
            response.render()
            answer = (response.content, response["Content-Type"])
            catalog_memo.keep(self.catalog_version_read, self.catalog_key, answer)
            _share_answer(self.catalog_key, answer)
        return response

    def _catalog_key(self, request, version: str) -> str:
        parts = (
            version,
            *self.pricing,
            get_language() or "",
            request.accepted_media_type,
            request.build_absolute_uri(),
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _etag(self) -> str:
        return f'"{self.catalog_key[:32]}"'


def _shared_answer(key: str):
    """An answer another process rendered; None when none is there or the cache does not answer."""
    try:
        return cache.get(ANSWER_PREFIX + key)
    except CACHE_ERRORS as error:
        logger.warning("Catalog answer not read, the cache does not answer: %r", error)
        return None


def _share_answer(key: str, answer) -> None:
    try:
        cache.set(ANSWER_PREFIX + key, answer, ANSWER_TTL_SECONDS)
    except CACHE_ERRORS as error:
        logger.warning("Catalog answer not stored, the cache does not answer: %r", error)


class PartnerCatalogMixin(PartnerAPIView):
    """Plans priced for the calling partner: the catalog is every partner's, no one's rows."""

    public_to_partners = True
    queryset = Plan.objects.all()
    serializer_class = PlanSerializer

    @property
    def pricing(self) -> tuple[str, str]:
        """The caller's price tier and currency, known without a query (the key's record)."""
        user = self.request.user
        if getattr(user, "tier", None) is None:
            raise NotAuthenticated()
        return user.tier, user.currency

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
