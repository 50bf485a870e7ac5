"""Placing orders, one function per kind around one core (``core.place``).

``place_purchase``, ``place_renewal``, ``place_recharge`` and ``place_replacement`` check what
their kind is for; the core prices the order from the retail list or the partner's price rule,
applies the promotion and ``max_price``, writes the order with its cost snapshot, debits the
partner's wallet (the partner locked first), keeps the partner's idempotency key and retries a
lost deadlock. ``place_order(kind=...)`` dispatches to them for callers holding the kind as data.
"""

from orders.services.placing.any_kind import place_order
from orders.services.placing.core import (
    MAX_QUANTITY,
    PLAN_KIND_FOR_ORDER,
    RENEWABLE_SIM_STATES,
    Terms,
)
from orders.services.placing.purchase import place_purchase
from orders.services.placing.recharge import detect_operator, place_recharge
from orders.services.placing.renewal import place_renewal
from orders.services.placing.replacement import place_replacement

__all__ = [
    "MAX_QUANTITY",
    "PLAN_KIND_FOR_ORDER",
    "RENEWABLE_SIM_STATES",
    "Terms",
    "detect_operator",
    "place_order",
    "place_purchase",
    "place_recharge",
    "place_renewal",
    "place_replacement",
]
