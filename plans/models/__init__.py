from plans.models.calls import ProviderCall
from plans.models.catalog import (
    CAPABILITY_FOR_KIND,
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
    "CAPABILITY_FOR_KIND",
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
