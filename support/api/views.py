"""Partner API: support conversations about the partner's orders and SIMs."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from core.api.errors import error_body
from core.api.views import PartnerAPIView
from support import services
from support.errors import SupportError
from support.models import Conversation, Message

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("Any unique string up to 255 characters: a retry gets the first answer."),
)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.ChoiceField(
        source="author_kind",
        choices=Message.Author.choices,
        help_text=_("Who wrote it: you (partner) or our staff."),
    )

    class Meta:
        model = Message
        fields = ["id", "author", "body", "created_at"]


class ConversationSerializer(serializers.ModelSerializer):
    order = serializers.CharField(
        source="order.number", allow_null=True, default=None, help_text=_("Order number.")
    )
    sim = serializers.CharField(
        source="sim.iccid", allow_null=True, default=None, help_text=_("ICCID of the SIM.")
    )

    class Meta:
        model = Conversation
        fields = ["id", "category", "subject", "status", "order", "sim", "created_at"]
        fields += ["last_message_at", "closed_at"]


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(
        source="public_messages", many=True, read_only=True, help_text=_("Oldest first.")
    )

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]


class ConversationCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Conversation.Category.choices)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=services.MAX_BODY)
    order = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text=_("Number of your order.")
    )
    sim = serializers.CharField(
        max_length=22, required=False, allow_blank=True, help_text=_("ICCID of your SIM.")
    )


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY)


def refused(error: SupportError) -> Response:
    """A 400 with the shared error body, naming the field at fault."""
    message = str(error.message)
    details = {error.field: [message]} if error.field else None
    return Response(error_body(error.code, message, details), status=status.HTTP_400_BAD_REQUEST)


CONVERSATIONS = Conversation.objects.select_related("order", "sim")


class PartnerConversationsMixin(PartnerAPIView):
    queryset = CONVERSATIONS
    serializer_class = ConversationSerializer


@extend_schema(tags=["support"])
class ConversationListCreateView(PartnerConversationsMixin, generics.ListAPIView):
    @extend_schema(summary=_("Your support conversations, newest first"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=_("Ask support a question"),
        description=_(
            "Opens a conversation, optionally about one of your orders or SIMs. Our staff "
            "answer in it; read the answers with GET /support/conversations/{id}/."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=ConversationCreateSerializer,
        responses={201: ConversationDetailSerializer},
    )
    def post(self, request):
        incoming = ConversationCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            conversation = services.open_conversation(
                partner=self.partner,
                category=data["category"],
                subject=data.get("subject", ""),
                body=data["body"],
                order_number=data.get("order", ""),
                iccid=data.get("sim", ""),
                language="en",
            )
        except SupportError as error:
            return refused(error)
        return Response(detail_of(self, conversation.pk), status=status.HTTP_201_CREATED)


def detail_of(view: PartnerAPIView, pk: int) -> dict:
    public = Prefetch(
        "messages", queryset=Message.objects.filter(internal=False), to_attr="public_messages"
    )
    conversation = get_object_or_404(view.owned(CONVERSATIONS.prefetch_related(public)), pk=pk)
    return ConversationDetailSerializer(conversation).data


@extend_schema(tags=["support"], summary=_("One support conversation with its messages"))
class ConversationDetailView(PartnerConversationsMixin, generics.GenericAPIView):
    serializer_class = ConversationDetailSerializer

    def get(self, request, pk: str):
        return Response(detail_of(self, _number(pk)))


@extend_schema(
    tags=["support"],
    summary=_("Write again in a support conversation"),
    description=_("A closed conversation opens again."),
    parameters=[IDEMPOTENCY_KEY],
    request=ReplySerializer,
    responses={201: ConversationDetailSerializer},
)
class ConversationReplyView(PartnerConversationsMixin, generics.GenericAPIView):
    serializer_class = ReplySerializer

    def post(self, request, pk: str):
        conversation = get_object_or_404(self.get_queryset(), pk=_number(pk))
        incoming = ReplySerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.customer_reply(
                conversation=conversation,
                partner=self.partner,
                body=incoming.validated_data["body"],
            )
        except SupportError as error:
            return refused(error)
        return Response(detail_of(self, conversation.pk), status=status.HTTP_201_CREATED)


def _number(pk: str) -> int:
    """The id in the URL, or 0 (found nowhere: 404) when it is not a number."""
    return int(pk) if pk.isascii() and pk.isdigit() and len(pk) < 19 else 0
