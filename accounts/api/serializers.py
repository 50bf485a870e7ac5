"""Webhook endpoints and their delivery log, as the partner sees them."""

from rest_framework import serializers

from accounts.models_webhooks import (
    EventType,
    OrderWebhookSecret,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


class EventTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=EventType.choices, **kwargs)


class EventListField(serializers.ListField):
    child = EventTypeField()

    def to_internal_value(self, data):
        return sorted(set(super().to_internal_value(data)))


EVENTS_HELP = "Event types sent to this endpoint; empty: all events, including future ones."


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint; its signing secret is shown only in the answer that created it."""

    events = EventListField(
        required=False, allow_empty=True, max_length=len(EventType), help_text=EVENTS_HELP
    )
    is_active = serializers.BooleanField(
        required=False, help_text="Off: nothing is sent. A 410 answer switches it off."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "disabled_reason", "created_at"]
        read_only_fields = ["id", "disabled_reason", "created_at"]


class WebhookEndpointCreateSerializer(serializers.ModelSerializer):
    events = EventListField(
        required=False, allow_empty=True, max_length=len(EventType), help_text=EVENTS_HELP
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (Standard Webhooks: webhook-signature). Shown only now: "
        "store it safely.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "url",
            "outcome",
            "status_code",
            "duration_ms",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class EventBodySerializer(serializers.Serializer):
    """The JSON body POSTed to the endpoint."""

    id = serializers.UUIDField(help_text="The event id: the same for every endpoint it went to.")
    type = EventTypeField()
    created = serializers.DateTimeField()
    data = serializers.DictField(help_text="Object ids and status; read details from the API.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to one URL, with every attempt so far."""

    endpoint = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="Empty: sent to an order's own webhook_url."
    )
    attempt_count = serializers.IntegerField(source="attempts", read_only=True)
    attempts = WebhookAttemptSerializer(source="attempt_log", many=True, read_only=True)
    event_type = EventTypeField(read_only=True)
    body = EventBodySerializer(source="payload", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "url",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "last_status_code",
            "last_duration_ms",
            "last_error",
            "created_at",
            "delivered_at",
            "body",
            "attempts",
        ]
        read_only_fields = fields


class OrderWebhookSecretSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderWebhookSecret
        fields = ["created_at"]
        read_only_fields = fields


class OrderWebhookSecretCreatedSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs deliveries to orders' own webhook_url. Shown only now; the old one "
        "stopped working.",
    )

    class Meta:
        model = OrderWebhookSecret
        fields = ["secret", "created_at"]
        read_only_fields = fields
