"""Partner API routes of the orders app (one module per area)."""

from django.urls import include, path

urlpatterns = [
    path("", include("orders.api.urls_orders")),
    path("", include("orders.api.urls_wallet")),
]
