"""Serializers of the partner API (orders, SIMs, webhook endpoints and their delivery log):
validated here, written by the services."""

import decimal
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Subquery, TextField
from django.db.models.functions import Coalesce
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from core.money import MONEY_MAX_DIGITS
from core.validators import normalize_pakistani_mobile
from orders.models import (
    EventType,
    Order,
    OrderWebhookSecret,
    Sim,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from orders.models.partner_webhooks import validate_webhook_url
from orders.models.sim import activation_parts
from orders.services.placing import MAX_QUANTITY
from plans.api.serializers import OperatorSerializer
from plans.models import Operator, Plan, PlanKind
from plans.services import catalog_version
from plans.services.catalog_memo import remembered

WRONG_KIND = {
    PlanKind.ESIM: "This is not an eSIM plan: renewals and recharges have their own endpoints.",
    PlanKind.RENEWAL: "This is not a renewal plan: list a SIM's renewal plans first.",
    PlanKind.RECHARGE: "This is not a recharge plan.",
}


class OrderSerializer(serializers.ModelSerializer):
    """An order as the partner sees it; every field is read-only."""

    plan = serializers.PrimaryKeyRelatedField(read_only=True)
    total = serializers.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2, read_only=True)
    sim = serializers.SlugRelatedField(
        slug_field="iccid",
        read_only=True,
        allow_null=True,
        help_text="The SIM renewed (renewals).",
    )
    webhook_url = serializers.CharField(
        read_only=True, help_text="The URL told about this order's progress, or empty."
    )
    msisdn = serializers.CharField(
        source="recharge_msisdn", read_only=True, help_text="The number recharged (recharges)."
    )
    sims = serializers.ListField(
        child=serializers.CharField(),
        source="issued_iccid_list",
        read_only=True,
        help_text="ICCIDs of the eSIMs this order issued.",
    )

    class Meta:
        model = Order
        fields = [
            "number",
            "kind",
            "status",
            "plan",
            "quantity",
            "currency",
            "total",
            "customer_reference",
            "webhook_url",
            "sim",
            "msisdn",
            "sims",
            "created_at",
            "paid_at",
            "fulfilled_at",
        ]
        read_only_fields = fields


class UsageSerializer(serializers.Serializer):
    data_total_mb = serializers.IntegerField(allow_null=True)
    data_remaining_mb = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField(
        source="usage_synced_at", allow_null=True, help_text="When usage was last synced."
    )


class SimSerializer(serializers.ModelSerializer):
    """A SIM with its activation details and last known usage; every field is read-only."""

    operator = OperatorSerializer(read_only=True)
    smdp_address = serializers.CharField(read_only=True)
    matching_id = serializers.CharField(read_only=True)
    plan = serializers.PrimaryKeyRelatedField(
        source="current_plan", read_only=True, allow_null=True
    )
    usage = UsageSerializer(source="*", read_only=True)
    replaced_by = serializers.SlugRelatedField(
        slug_field="iccid", read_only=True, allow_null=True, help_text="The SIM that replaced it."
    )

    class Meta:
        model = Sim
        fields = [
            "iccid",
            "msisdn",
            "operator",
            "status",
            "activation_code",
            "smdp_address",
            "matching_id",
            "confirmation_code",
            "plan",
            "expires_at",
            "usage",
            "replaced_by",
        ]
        read_only_fields = fields


# The order and SIM lists (and the order detail) read values() rows (only the columns shown, no
# model instances) and build each answer here, field for field as OrderSerializer /
# SimSerializer declare it, with those serializers' own fields formatting amounts and times
# (tests/api compares each row with the serializer's answer or the detail's).


class IccidsOfSims(Subquery):
    """The ICCIDs of the SIMs an order issued, oldest first, read from them: text separated by
    spaces, as the order records them (empty when none)."""

    def __init__(self):
        issued = Sim.objects.filter(issued_by_order=OuterRef("pk")).order_by("id")
        super().__init__(issued.values("iccid"), output_field=TextField())

    def as_postgresql(self, compiler, connection, **extra):
        template = "array_to_string(ARRAY(%(subquery)s), ' ')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "COALESCE((SELECT group_concat(iccid, ' ') FROM (%(subquery)s)), '')"
        return self.as_sql(compiler, connection, template=template, **extra)


@cache
def issued_iccids() -> Coalesce:
    """The ICCIDs an order issued, in its own row: as recorded with its fulfilment, else (not
    fulfilled yet, or fulfilled before they were recorded) from its SIMs, a subquery the
    database runs for those rows only. Built once: a query copies an expression as it resolves
    it."""
    return Coalesce("issued_iccids", IccidsOfSims(), output_field=TextField())


def order_list_rows(orders):
    """``orders`` as the values() rows ``order_rows`` formats."""
    return orders.values(*ORDER_LIST_COLUMNS, sims=issued_iccids())


ORDER_LIST_COLUMNS = (
    *("number", "kind", "status", "plan_id", "quantity", "currency", "total"),
    *("customer_reference", "webhook_url", "sim__iccid", "recharge_msisdn", "created_at"),
    *("paid_at", "fulfilled_at"),
)
SIM_LIST_COLUMNS = (
    *("iccid", "msisdn", "operator__code", "operator__name", "status", "activation_code"),
    *("confirmation_code", "current_plan_id", "expires_at", "data_total_mb"),
    *("data_remaining_mb", "usage_synced_at", "replaced_by__iccid", "created_at"),
)


def placed_order_row(order: Order) -> dict:
    """The ``order_list_rows`` row of an order just placed, from the instance: one not for a SIM
    that has issued none yet."""
    row = {column: getattr(order, column) for column in ORDER_LIST_COLUMNS if "__" not in column}
    return {**row, "sim__iccid": None, "sims": ""}


@cache
def declared_field(serializer_class, name: str) -> serializers.Field:
    """The field ``name`` as ``serializer_class`` declares it (built once)."""
    return serializer_class().fields[name]


def iso_times(field: serializers.DateTimeField):
    """``field.to_representation`` for a page of times in UTC (as the database's are read): the
    time zone looked up once, each time converted and written as the field would (ISO 8601,
    ``Z`` for UTC); any other value, or format, goes through the field."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation

    def represent(value):
        if value.__class__ is not datetime or value.tzinfo is not UTC:
            return None if value is None else field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return represent


def decimal_texts(field: serializers.DecimalField):
    """``field.to_representation`` for a page of amounts: each rounded to the field's places in
    a context copied once, and written as the field would; any other value, or setting, goes
    through the field."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    plain = coerce and not (field.localize or field.normalize_output)
    if not plain or field.decimal_places is None or field.max_digits is None:
        return field.to_representation
    places = Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    context.prec = field.max_digits

    def represent(value):
        if type(value) is not Decimal:
            return field.to_representation(value)
        return f"{value.quantize(places, rounding=field.rounding, context=context):f}"

    return represent


def order_rows(rows: list[dict]) -> list[dict]:
    """``OrderSerializer``'s representation of ``order_list_rows`` rows."""
    total = decimal_texts(declared_field(OrderSerializer, "total"))
    time = iso_times(declared_field(OrderSerializer, "created_at"))
    return [
        {
            "number": row["number"],
            "kind": row["kind"],
            "status": row["status"],
            "plan": row["plan_id"],
            "quantity": row["quantity"],
            "currency": row["currency"],
            "total": total(row["total"]),
            "customer_reference": row["customer_reference"],
            "webhook_url": row["webhook_url"],
            "sim": row["sim__iccid"],
            "msisdn": row["recharge_msisdn"],
            "sims": row["sims"].split(),
            "created_at": time(row["created_at"]),
            "paid_at": time(row["paid_at"]),
            "fulfilled_at": time(row["fulfilled_at"]),
        }
        for row in rows
    ]


def sim_rows(rows: list[dict]) -> list[dict]:
    """``SimSerializer``'s representation of values() rows of ``SIM_LIST_COLUMNS``."""
    time = iso_times(declared_field(SimSerializer, "expires_at"))
    return [
        {
            "iccid": row["iccid"],
            "msisdn": row["msisdn"],
            "operator": {"code": row["operator__code"], "name": row["operator__name"]},
            "status": row["status"],
            "activation_code": row["activation_code"],
            "smdp_address": (parts := activation_parts(row["activation_code"]))[0],
            "matching_id": parts[1],
            "confirmation_code": row["confirmation_code"],
            "plan": row["current_plan_id"],
            "expires_at": time(row["expires_at"]),
            "usage": {
                "data_total_mb": row["data_total_mb"],
                "data_remaining_mb": row["data_remaining_mb"],
                "as_of": time(row["usage_synced_at"]),
            },
            "replaced_by": row["replaced_by__iccid"],
        }
        for row in rows
    ]


ACTIVE_PLANS = Plan.objects.filter(is_active=True).select_related("provider")


class CatalogPlanField(serializers.PrimaryKeyRelatedField):
    """An active plan by its id, with its provider (placing checks that it can supply the
    plan: ``Plan.is_supplied``); kept in the process's memo of the request's catalog version
    (:mod:`plans.services.catalog_memo`)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=ACTIVE_PLANS, **kwargs)  # built once: fields are copied

    def to_internal_value(self, data):
        read = super().to_internal_value
        request = self.context.get("request")
        if request is None or isinstance(data, bool) or not isinstance(data, int | str):
            return read(data)
        return remembered(catalog_version.of_request(request), ("plan", data), lambda: read(data))


class PlacementSerializer(serializers.Serializer):
    """What every create request may carry besides its plan."""

    plan_kind = PlanKind.ESIM

    plan = CatalogPlanField()
    max_price = serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Refuse the order (409 `price_changed`) if its total would be above this.",
    )
    customer_reference = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    webhook_url = serializers.URLField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        validators=[validate_webhook_url],
        help_text="An https URL told about this order's progress (the same rule as webhook "
        "endpoints).",
    )

    def validate_plan(self, plan):
        if plan.kind != self.plan_kind:
            raise serializers.ValidationError(WRONG_KIND[self.plan_kind])
        return plan


class PurchaseSerializer(PlacementSerializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class RenewalSerializer(PlacementSerializer):
    plan_kind = PlanKind.RENEWAL


class RechargeSerializer(PlacementSerializer):
    plan_kind = PlanKind.RECHARGE

    msisdn = serializers.CharField(max_length=32, help_text="The Pakistani mobile number.")
    operator = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Operator.objects.filter(supports_recharge=True),
        required=False,
        help_text="Operator code; detected from the number when left out.",
    )

    def validate_msisdn(self, value):
        try:
            return normalize_pakistani_mobile(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc


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
