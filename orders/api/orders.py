"""Order endpoints: eSIM purchases and recharges paid from the wallet; list and read orders."""

import hashlib

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.models import Partner
from core.api.filters import UtcIsoDateTimeFilter
from core.api.idempotency import request_fingerprint
from core.api.views import PartnerAPIView, RowsListMixin
from orders.api.serializers import (
    OrderSerializer,
    PurchaseSerializer,
    RechargeSerializer,
    order_list_rows,
    order_rows,
    placed_order_row,
)
from orders.models import Order
from orders.services.placing import place_purchase, place_recharge
from plans.services import catalog_version

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string up to 255 characters: a retry with it returns the first answer.",
)
ORDER_KEY_LENGTH = Order._meta.get_field("idempotency_key").max_length


def order_idempotency_key(request) -> str:
    """The request's Idempotency-Key as stored on the order (hashed when too long for it)."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if len(key) > ORDER_KEY_LENGTH:
        return hashlib.sha256(key.encode()).hexdigest()
    return key


def placed(request, place, *, data: dict, **extra) -> Response:
    """Place an order for the calling partner with ``place`` (``place_purchase``, ...) and answer
    201 with it."""
    order = place(
        partner=partner_of(request.user),
        plan=data["plan"],
        max_price=data.get("max_price"),
        catalog_version=catalog_version.of_request(request),
        customer_reference=data["customer_reference"],
        webhook_url=data["webhook_url"],
        idempotency_key=order_idempotency_key(request),
        request_fingerprint=request_fingerprint(request),
        **extra,
    )
    return Response(as_answered(order), status=status.HTTP_201_CREATED)


def partner_of(principal) -> Partner:
    """The calling partner as its key's cached record has it (pk, currency, tier): ``place``
    checks them against the row it locks, so placing reads the partner once."""
    return Partner(pk=principal.partner_id, currency=principal.currency, tier=principal.tier)


def as_answered(order: Order) -> dict:
    """The order's answer. A paid order that is not for a SIM has issued nothing yet (its SIMs
    are recorded with its fulfilment): its row is built from the order as placed, without
    reading it again; any other is read as the list reads it."""
    if order.status == Order.Status.PAID and order.sim_id is None:
        return order_rows([placed_order_row(order)])[0]
    return order_rows([order_list_rows(Order.objects.filter(pk=order.pk)).get()])[0]


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Order.Kind.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    customer_reference = django_filters.CharFilter()

    class Meta:
        model = Order
        fields = []


class PartnerOrdersMixin(PartnerAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer


@extend_schema_view(
    get=extend_schema(tags=["orders"], summary="List your orders"),
    post=extend_schema(
        tags=["orders"],
        summary="Buy eSIMs",
        description="Places a purchase of 1 to 50 eSIMs of an `esim` plan, paid from your "
        "wallet at once. The eSIMs are issued in the background: read the order, or give a "
        "`webhook_url`, to learn when it is fulfilled.",
        parameters=[IDEMPOTENCY_KEY],
        request=PurchaseSerializer,
        responses={201: OrderSerializer},
    ),
)
class OrderListCreateView(RowsListMixin, PartnerOrdersMixin, generics.ListCreateAPIView):
    filterset_class = OrderFilter
    compiled_pages = True

    def list_rows(self, queryset):
        return order_list_rows(queryset)

    def represent_rows(self, rows):
        return order_rows(rows)

    def create(self, request, *args, **kwargs):
        serializer = PurchaseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return placed(request, place_purchase, data=data, quantity=data["quantity"])


@extend_schema(tags=["orders"], summary="Read one order")
class OrderDetailView(PartnerOrdersMixin, generics.RetrieveAPIView):
    lookup_field = "number"

    def retrieve(self, request, *args, **kwargs):
        rows = order_list_rows(self.get_queryset().filter(number=kwargs["number"]))
        return Response(order_rows([get_object_or_404(rows)])[0])


@extend_schema(
    tags=["recharges"],
    summary="Recharge a number",
    description="Sends airtime to a Pakistani mobile number, paid from your wallet. The "
    "operator is detected from the number when left out (numbers can be ported: give it when "
    "you know it).",
    parameters=[IDEMPOTENCY_KEY],
    request=RechargeSerializer,
    responses={201: OrderSerializer},
)
class RechargeCreateView(PartnerAPIView):
    serializer_class = RechargeSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return placed(
            request,
            place_recharge,
            data=data,
            msisdn=data["msisdn"],
            operator=data.get("operator"),
        )
