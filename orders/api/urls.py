"""Partner API routes of the orders app (one module per area).

Webhook ids are matched as strings so that a malformed id reaches the view and gets the API's
JSON 404 (``<int:…>`` would hand it to the catch-all, which refuses a POST/PATCH/DELETE without
CSRF).
"""

from django.urls import include, path

from orders.api import webhooks

urlpatterns = [
    path("", include("orders.api.urls_orders")),
    path("", include("orders.api.urls_wallet")),
    path(
        "webhook-endpoints/",
        webhooks.WebhookEndpointListView.as_view(),
        name="api-webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<str:pk>/",
        webhooks.WebhookEndpointDetailView.as_view(),
        name="api-webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/",
        webhooks.WebhookEndpointDeliveriesView.as_view(),
        name="api-webhook-endpoint-deliveries",
    ),
    path(
        "webhook-deliveries/",
        webhooks.WebhookDeliveryListView.as_view(),
        name="api-webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<str:pk>/",
        webhooks.WebhookDeliveryDetailView.as_view(),
        name="api-webhook-delivery-detail",
    ),
    path(
        "webhook-deliveries/<str:pk>/redeliver/",
        webhooks.WebhookRedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
    path(
        "order-webhook-secret/",
        webhooks.OrderWebhookSecretView.as_view(),
        name="api-order-webhook-secret",
    ),
]
