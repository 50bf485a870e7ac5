"""Order, SIM, renewal and recharge routes of the partner API."""

from django.urls import path

from orders.api import orders, sims

urlpatterns = [
    path("orders/", orders.OrderListCreateView.as_view(), name="api-order-list"),
    path("orders/<str:number>/", orders.OrderDetailView.as_view(), name="api-order-detail"),
    path("recharges/", orders.RechargeCreateView.as_view(), name="api-recharge-create"),
    path("sims/", sims.SimListView.as_view(), name="api-sim-list"),
    path("sims/<str:iccid>/", sims.SimDetailView.as_view(), name="api-sim-detail"),
    path(
        "sims/<str:iccid>/renewal-plans/",
        sims.SimRenewalPlansView.as_view(),
        name="api-sim-renewal-plans",
    ),
    path(
        "sims/<str:iccid>/renewals/",
        sims.SimRenewalCreateView.as_view(),
        name="api-sim-renewal-create",
    ),
]
