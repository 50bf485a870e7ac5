"""Partner API: webhook endpoints, their delivery log, redelivery and the order webhook secret.

Every query is limited to the calling key's partner (core.api.views.PartnerAPIView); another
partner's object answers 404.
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from core.api.views import PartnerAPIView
from orders.api.serializers import (
    OrderWebhookSecretCreatedSerializer,
    OrderWebhookSecretSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
)
from orders.models.partner_webhooks import OrderWebhookSecret, WebhookDelivery, WebhookEndpoint
from orders.partner_webhooks import services as webhooks

TAGS = ["webhooks"]


ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The endpoint's id."
)
ENDPOINT_PK = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The endpoint's id."
)
DELIVERY_PK = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The delivery's id."
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def conflict(error: webhooks.WebhookError) -> Conflict:
    return Conflict(error.message, code=error.code)


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type"]


class DeliveryLogMixin(PartnerAPIView):
    queryset = WebhookDelivery.objects.prefetch_related("attempt_log")
    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilter


@extend_schema_view(
    get=extend_schema(tags=TAGS, summary="List webhook endpoints"),
    post=extend_schema(
        tags=TAGS,
        summary="Add a webhook endpoint",
        description="The answer holds the endpoint's signing secret: it is never shown again.",
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    ),
)
class WebhookEndpointListView(PartnerAPIView, generics.ListCreateAPIView):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer

    def create(self, request, *args, **kwargs):
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            endpoint = webhooks.create_endpoint(
                partner=self.partner,
                url=serializer.validated_data["url"],
                events=serializer.validated_data.get("events", []),
            )
        except webhooks.WebhookError as error:
            raise conflict(error) from error
        return Response(
            WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    get=extend_schema(tags=TAGS, summary="Read a webhook endpoint", parameters=[ENDPOINT_PK]),
    patch=extend_schema(
        tags=TAGS,
        summary="Change a webhook endpoint's URL, events or state",
        parameters=[ENDPOINT_PK],
    ),
    delete=extend_schema(
        tags=TAGS,
        summary="Delete a webhook endpoint and its delivery log",
        parameters=[ENDPOINT_PK],
    ),
)
class WebhookEndpointDetailView(PartnerAPIView, generics.RetrieveUpdateDestroyAPIView):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        try:
            serializer.instance = webhooks.update_endpoint(
                endpoint=serializer.instance, changes=serializer.validated_data
            )
        except webhooks.EndpointNotFound as error:  # deleted by a request that ran first
            raise NotFound() from error

    def perform_destroy(self, instance):
        try:
            webhooks.delete_endpoint(endpoint=instance)
        except webhooks.EndpointNotFound as error:
            raise NotFound() from error


@extend_schema(
    tags=TAGS,
    summary="An endpoint's delivery log",
    description="Newest first, each delivery with all its attempts (status code, duration, error).",
    parameters=[ENDPOINT_ID],
)
class WebhookEndpointDeliveriesView(DeliveryLogMixin, generics.ListAPIView):
    def base_queryset(self):
        endpoint = get_object_or_404(self.owned(WebhookEndpoint), pk=self.kwargs["endpoint_id"])
        return super().base_queryset().filter(endpoint=endpoint)


@extend_schema(
    tags=TAGS,
    summary="List all webhook deliveries",
    description="Every endpoint's deliveries and those to orders' own webhook_url, newest first.",
)
class WebhookDeliveryListView(DeliveryLogMixin, generics.ListAPIView):
    pass


@extend_schema(
    tags=TAGS, summary="Read a webhook delivery with its attempts", parameters=[DELIVERY_PK]
)
class WebhookDeliveryDetailView(DeliveryLogMixin, generics.RetrieveAPIView):
    pass


@extend_schema(
    tags=TAGS,
    summary="Send a delivery again now",
    description="Makes a new attempt at once, whatever the delivery's status; the answer shows "
    "the delivery as queued. A disabled endpoint must be switched on first (409).",
    request=None,
    responses={202: WebhookDeliverySerializer},
    parameters=[DELIVERY_PK],
)
class WebhookRedeliverView(DeliveryLogMixin):
    filterset_class = None

    def post(self, request, *args, **kwargs):
        delivery = self.get_object()
        try:
            webhooks.redeliver(delivery=delivery)
        except webhooks.WebhookError as error:
            raise conflict(error) from error
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        tags=TAGS,
        summary="When the order webhook secret was made",
        description="Deliveries to an order's own webhook_url are signed with this secret. "
        "404 until one exists (the first such delivery or a POST here makes one).",
        responses={200: OrderWebhookSecretSerializer},
    ),
    post=extend_schema(
        tags=TAGS,
        summary="Make a new order webhook secret",
        description="Answers the new secret, once; the previous one stops signing at once.",
        request=None,
        responses={201: OrderWebhookSecretCreatedSerializer},
    ),
)
class OrderWebhookSecretView(PartnerAPIView):
    queryset = OrderWebhookSecret.objects.all()
    serializer_class = OrderWebhookSecretSerializer
    pagination_class = None

    def get(self, request, *args, **kwargs):
        secret = get_object_or_404(self.get_queryset())
        return Response(OrderWebhookSecretSerializer(secret).data)

    def post(self, request, *args, **kwargs):
        secret = webhooks.rotate_order_webhook_secret(partner=self.partner)
        return Response(
            OrderWebhookSecretCreatedSerializer(secret).data, status=status.HTTP_201_CREATED
        )
