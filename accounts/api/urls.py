"""Partner API routes of the accounts app: webhook endpoints and deliveries.

Ids are matched as strings so that a malformed id reaches the view and gets the API's JSON 404
(``<int:…>`` would hand it to the catch-all, which refuses a POST/PATCH/DELETE without CSRF).
"""

from django.urls import path

from accounts.api import views

urlpatterns = [
    path(
        "webhook-endpoints/",
        views.WebhookEndpointListView.as_view(),
        name="api-webhook-endpoint-list",
    ),
    path(
        "webhook-endpoints/<str:pk>/",
        views.WebhookEndpointDetailView.as_view(),
        name="api-webhook-endpoint-detail",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/",
        views.WebhookEndpointDeliveriesView.as_view(),
        name="api-webhook-endpoint-deliveries",
    ),
    path(
        "webhook-deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="api-webhook-delivery-list",
    ),
    path(
        "webhook-deliveries/<str:pk>/",
        views.WebhookDeliveryDetailView.as_view(),
        name="api-webhook-delivery-detail",
    ),
    path(
        "webhook-deliveries/<str:pk>/redeliver/",
        views.WebhookRedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
    path(
        "order-webhook-secret/",
        views.OrderWebhookSecretView.as_view(),
        name="api-order-webhook-secret",
    ),
]
