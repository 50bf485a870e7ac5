"""Order and SIM serializers of the partner API: validated here, written by the services."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db.models import Prefetch
from rest_framework import serializers

from core.money import MONEY_MAX_DIGITS
from core.validators import normalize_pakistani_mobile
from orders.models import Order, Sim
from orders.services.placing import MAX_QUANTITY
from plans.api.serializers import OperatorSerializer
from plans.models import Operator, Plan, PlanKind

WRONG_KIND = {
    PlanKind.ESIM: "This is not an eSIM plan: renewals and recharges have their own endpoints.",
    PlanKind.RENEWAL: "This is not a renewal plan: list a SIM's renewal plans first.",
    PlanKind.RECHARGE: "This is not a recharge plan.",
}


def orders_with_sims():
    """Orders with what the order serializer reads, in a fixed number of queries."""
    issued = Sim.objects.only("iccid", "issued_by_order_id").order_by("id")
    return Order.objects.select_related("sim").prefetch_related(
        Prefetch("issued_sims", queryset=issued)
    )


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
    sims = serializers.SlugRelatedField(
        source="issued_sims",
        slug_field="iccid",
        many=True,
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


class PlacementSerializer(serializers.Serializer):
    """What every create request may carry besides its plan."""

    plan_kind = PlanKind.ESIM

    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.filter(is_active=True))
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
        validators=[URLValidator(schemes=["https"])],
        help_text="An https URL told about this order's progress.",
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
