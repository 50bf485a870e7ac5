"""Buying an eSIM plan: one for a customer, up to ``MAX_QUANTITY`` at once for a partner."""

from typing import Unpack

from orders.models import Order
from orders.services.placing.core import MAX_QUANTITY, Terms, place
from plans.models import Plan


def place_purchase(*, plan: Plan, quantity: int = 1, **terms: Unpack[Terms]) -> Order:
    """Order ``quantity`` new eSIMs of ``plan`` (an eSIM plan); see ``Terms`` for the rest."""
    max_quantity = MAX_QUANTITY if terms.get("partner") else 1
    return place(
        kind=Order.Kind.PURCHASE,
        plan=plan,
        quantity=quantity,
        max_quantity=max_quantity,
        **terms,
    )
