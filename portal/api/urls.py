"""The partner API root: ``/api/v1/``."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from orders.api import urls as orders_urls
from plans.api import urls as plans_urls
from portal.api.errors import json_not_found
from support.api import urls as support_urls

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The Swagger UI's start-up script is served from the same URL (``?script``), not inline, so the
    # page runs under a Content-Security-Policy without 'unsafe-inline' (portal/middleware.py).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The apps' endpoints at this level, not each under an include: one level less to resolve
    # for every call.
    *plans_urls.urlpatterns,
    *orders_urls.urlpatterns,
    *support_urls.urlpatterns,
    # Any other path, newlines included: ``.`` would not match them, and ``$`` (unlike ``\Z``)
    # would also match before a trailing one.
    re_path(r"^[\s\S]*\Z", json_not_found),
]
