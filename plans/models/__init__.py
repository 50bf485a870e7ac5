from plans.models.calls import ProviderCall
from plans.models.catalog import (
    Operator,
    OperatorPrefix,
    Period,
    Plan,
    PlanKind,
    PlanPrice,
    Provider,
)
from plans.models.pricing import PartnerPriceRule, Promotion
from plans.models.sandbox import SandboxOrder

__all__ = [
    "Operator",
    "OperatorPrefix",
    "PartnerPriceRule",
    "Period",
    "Plan",
    "PlanKind",
    "PlanPrice",
    "Promotion",
    "Provider",
    "ProviderCall",
    "SandboxOrder",
]
