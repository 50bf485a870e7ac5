"""The partner API root: ``/api/v1/``."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal.api.errors import json_not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("plans.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("accounts.api.urls")),
    re_path(r"^.*$", json_not_found),
]
