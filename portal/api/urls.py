"""The partner API root: ``/api/v1/``."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.api.errors import json_not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The Swagger UI's start-up script is served from the same URL (``?script``), not inline, so the
    # page runs under a Content-Security-Policy without 'unsafe-inline' (portal/middleware.py).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("plans.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("support.api.urls")),
    # Any other path, newlines included: ``.`` would not match them, and ``$`` (unlike ``\Z``)
    # would also match before a trailing one.
    re_path(r"^[\s\S]*\Z", json_not_found),
]
