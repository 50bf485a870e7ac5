"""SIM endpoints: list and read your SIMs, see a SIM's renewal plans and renew it."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from core.api.views import PartnerAPIView, RowsListMixin
from orders.api.orders import IDEMPOTENCY_KEY, placed
from orders.api.serializers import (
    SIM_LIST_COLUMNS,
    OrderSerializer,
    RenewalSerializer,
    SimSerializer,
    sim_rows,
)
from orders.models import Sim
from orders.services.placing import place_renewal
from plans.api.views import CatalogPagination, PartnerCatalogMixin
from plans.models import PlanKind


class SimFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Sim.Status.choices)
    operator = django_filters.CharFilter(
        field_name="operator__code", help_text="Operator code, e.g. `jazz`."
    )

    class Meta:
        model = Sim
        fields = []


def partner_sim(view: PartnerAPIView, iccid: str) -> Sim:
    """The caller's SIM with this ICCID, else 404."""
    return get_object_or_404(view.owned(Sim), iccid=iccid)


class PartnerSimsMixin(PartnerAPIView):
    queryset = Sim.objects.select_related("operator", "replaced_by")
    serializer_class = SimSerializer
    lookup_field = "iccid"


@extend_schema(tags=["sims"], summary="List your SIMs")
class SimListView(RowsListMixin, PartnerSimsMixin, generics.ListAPIView):
    filterset_class = SimFilter
    compiled_pages = True
    list_columns = SIM_LIST_COLUMNS

    def represent_rows(self, rows):
        return sim_rows(rows)


@extend_schema(tags=["sims"], summary="Read one SIM")
class SimDetailView(PartnerSimsMixin, generics.RetrieveAPIView):
    """Activation details and usage as of its last sync with the operator."""


@extend_schema(tags=["sims"], summary="List a SIM's renewal plans at your prices")
class SimRenewalPlansView(PartnerCatalogMixin, generics.ListAPIView):
    """Active renewal plans of the SIM's operator, priced in your wallet currency."""

    pagination_class = CatalogPagination
    filter_backends = []

    def base_queryset(self):
        sim = partner_sim(self, self.kwargs["iccid"])
        return super().base_queryset().filter(kind=PlanKind.RENEWAL, operator_id=sim.operator_id)


@extend_schema(
    tags=["sims"],
    summary="Renew a SIM",
    description="Adds a renewal plan of the SIM's operator, paid from your wallet. Validity "
    "runs from the later of now and the current expiry; the data is added to what is left.",
    parameters=[IDEMPOTENCY_KEY],
    request=RenewalSerializer,
    responses={201: OrderSerializer},
)
class SimRenewalCreateView(PartnerAPIView):
    serializer_class = RenewalSerializer

    def post(self, request, *args, **kwargs):
        sim = partner_sim(self, self.kwargs["iccid"])
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return placed(request, place_renewal, data=serializer.validated_data, sim=sim)
