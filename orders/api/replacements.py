"""Partner API: replacement (补卡) requests for a partner's SIMs, into the staff review queue."""

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.documents import DocumentRejected
from accounts.models import DocumentType, RejectionReason
from core.api.errors import error_body
from core.api.views import PartnerAPIView
from core.money import Currency
from orders import couriers
from orders.models import ReplacementTicket, Sim
from orders.services.errors import OrderError
from orders.services.replacement import request_replacement

# Service error codes that are about one field of the request: the error names it.
FIELD_OF_ERROR = {
    "reason_invalid": "reason",
    "name_required": "full_name",
    "document_number_invalid": "document_number",
    "address_required": "delivery_address",
    "currency_invalid": "currency",
}


class ReplacementCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReplacementTicket.Reason.choices)
    full_name = serializers.CharField(
        max_length=200, help_text=_("The end customer's name as on the document.")
    )
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    document_number = serializers.CharField(
        max_length=30,
        help_text=_("CNIC: 13 digits (dashes allowed); passport: 6 to 12 letters and digits."),
    )
    front = serializers.FileField(help_text=_("Photo of the document's front (JPEG, PNG, HEIC)."))
    back = serializers.FileField(help_text=_("Photo of the document's back (JPEG, PNG, HEIC)."))
    selfie = serializers.FileField(help_text=_("Photo of the customer holding the document."))
    currency = serializers.ChoiceField(
        choices=Currency.choices,
        required=False,
        help_text=_(
            "Currency of any operator fee: your wallet's (the default), as it pays the fee."
        ),
    )
    delivery_address = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text=_("Where to send the new SIM: required for physical SIMs."),
    )


class ReplacementSerializer(serializers.ModelSerializer):
    sim = serializers.CharField(source="sim.iccid", help_text=_("ICCID of the SIM replaced."))
    new_sim = serializers.CharField(
        source="new_sim.iccid",
        allow_null=True,
        default=None,
        help_text=_("ICCID of the new SIM once issued."),
    )
    order = serializers.CharField(
        source="order.number",
        allow_null=True,
        default=None,
        help_text=_("Number of the fee order created on approval, if any."),
    )
    rejection_reason = serializers.SerializerMethodField(
        help_text=_("Why the request was rejected (only when rejected).")
    )
    rejection_note = serializers.SerializerMethodField(
        help_text=_("The reviewer's note to the customer (only when rejected).")
    )

    courier = serializers.SerializerMethodField(
        help_text=_("The courier carrying a physical SIM's new card (once shipped).")
    )
    tracking_number = serializers.SerializerMethodField(
        help_text=_("The courier's tracking number (once shipped).")
    )
    tracking_url = serializers.SerializerMethodField(
        help_text=_("The courier's tracking page for the parcel (once shipped).")
    )

    class Meta:
        model = ReplacementTicket
        fields = ["id", "status", "reason", "sim", "new_sim", "order", "currency"]
        fields += ["rejection_reason", "rejection_note"]
        fields += ["courier", "tracking_number", "tracking_url"]
        fields += ["created_at", "approved_at", "issued_at", "shipped_at", "activated_at"]
        fields += ["updated_at"]
        extra_kwargs = {
            "approved_at": {"help_text": _("When staff approved the request.")},
            "issued_at": {"help_text": _("When the new SIM was issued.")},
            "shipped_at": {"help_text": _("When a physical SIM's new card was posted.")},
            "activated_at": {
                "help_text": _("When the new card was confirmed working (the old SIM retired).")
            },
        }

    def _rejected(self, ticket) -> bool:
        return ticket.status == ReplacementTicket.Status.REJECTED

    @extend_schema_field(serializers.ChoiceField(choices=RejectionReason.choices, allow_null=True))
    def get_rejection_reason(self, ticket) -> str | None:
        if not self._rejected(ticket):
            return None
        return ticket.identity_check.rejection_reason or RejectionReason.OTHER

    def get_rejection_note(self, ticket) -> str | None:
        return ticket.identity_check.rejection_note if self._rejected(ticket) else None

    @extend_schema_field(serializers.ChoiceField(choices=couriers.CHOICES, allow_null=True))
    def get_courier(self, ticket) -> str | None:
        return ticket.courier or None

    def get_tracking_number(self, ticket) -> str | None:
        return ticket.tracking_number or None

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_tracking_url(self, ticket) -> str | None:
        return ticket.tracking_url or None


class ReplacementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReplacementTicket.Status.choices)
    sim = django_filters.CharFilter(field_name="sim__iccid", label=_("ICCID of the SIM."))

    class Meta:
        model = ReplacementTicket
        fields = ["status", "sim"]


TICKETS = ReplacementTicket.objects.select_related("sim", "new_sim", "order", "identity_check")


class PartnerTicketsMixin(PartnerAPIView):
    queryset = TICKETS
    serializer_class = ReplacementSerializer


@extend_schema(summary=_("Replacement requests, newest first"), tags=["replacements"])
class ReplacementListView(PartnerTicketsMixin, generics.ListAPIView):
    filterset_class = ReplacementFilter


@extend_schema(summary=_("One replacement request"), tags=["replacements"])
class ReplacementDetailView(PartnerTicketsMixin, generics.RetrieveAPIView):
    pass


class ReplacementCreateView(PartnerAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = ReplacementCreateSerializer

    @extend_schema(
        operation_id="sims_replacements_create",
        summary=_("Ask for a replacement of a SIM"),
        description=_(
            "Send the end customer's identity data and three photos as multipart/form-data. "
            "Staff review the request (usually within 24 to 48 hours); follow it with "
            "GET /replacements/{id}/ or the replacement.approved and replacement.rejected "
            "webhooks (a physical SIM's new card: replacement.shipped, then "
            "replacement.activated). Any operator fee is taken from the wallet on approval."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description=_(
                    "Any unique string up to 255 characters: a retry gets the first answer."
                ),
            )
        ],
        request={"multipart/form-data": ReplacementCreateSerializer},
        responses={201: ReplacementSerializer},
        tags=["replacements"],
    )
    def post(self, request, iccid: str):
        partner = self.partner
        sim = get_object_or_404(self.owned(Sim.objects.select_related("operator")), iccid=iccid)
        incoming = ReplacementCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if data.get("currency", partner.currency) != partner.currency:
            message = _("Fees are paid from your wallet, in %(currency)s.")
            return field_error(
                "currency_invalid", message % {"currency": partner.currency}, "currency"
            )
        try:
            ticket = request_replacement(
                sim=sim,
                partner=partner,
                reason=data["reason"],
                full_name=data["full_name"],
                document_type=data["document_type"],
                document_number=data["document_number"],
                front=data["front"],
                back=data["back"],
                selfie=data["selfie"],
                currency=partner.currency,
                delivery_address=data.get("delivery_address", ""),
            )
        except DocumentRejected as rejected:
            field = getattr(rejected, "field", "front")
            return field_error(rejected.code, rejected.message, field)
        except OrderError as error:
            if error.code not in FIELD_OF_ERROR:
                raise
            return field_error(error.code, error.message, FIELD_OF_ERROR[error.code])
        ticket = self.owned(TICKETS).get(pk=ticket.pk)
        return Response(ReplacementSerializer(ticket).data, status=status.HTTP_201_CREATED)


def field_error(code: str, message, field: str) -> Response:
    """A 400 with the shared error body whose details name the field at fault."""
    message = str(message)
    return Response(
        error_body(code, message, {field: [message]}), status=status.HTTP_400_BAD_REQUEST
    )
