"""Catalog serializers: plans at the partner's price."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import MONEY_MAX_DIGITS
from plans.api.filters import unit_price
from plans.models import Operator, Plan


class MoneySerializer(serializers.Serializer):
    """An amount (a decimal string, rounded to the currency's minor unit) and its currency."""

    amount = serializers.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2)
    currency = serializers.CharField()


# Formats every price's amount as MoneySerializer does, without building a serializer per row.
AMOUNT = MoneySerializer().fields["amount"]


class OperatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = ["code", "name"]


class PlanSerializer(serializers.ModelSerializer):
    """A plan from ``partner_catalog``; ``context["currency"]`` is the partner's currency."""

    operator = OperatorSerializer(read_only=True)
    price = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = [
            "id",
            "operator",
            "kind",
            "name",
            "name_zh",
            "data_mb",
            "data_unlimited",
            "minutes",
            "sms",
            "validity_days",
            "period",
            "price",
        ]
        read_only_fields = fields

    @extend_schema_field(MoneySerializer)
    def get_price(self, plan) -> dict:
        currency = self.context["currency"]
        return {
            "amount": AMOUNT.to_representation(unit_price(plan, currency)),
            "currency": currency,
        }
