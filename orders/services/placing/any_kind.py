"""``place_order(kind=...)``: one entry for every kind, for callers that hold the kind as data."""

from typing import Unpack

from orders.models import Order, Sim
from orders.services.errors import OrderError
from orders.services.placing.core import Terms, check_quantity
from orders.services.placing.purchase import place_purchase
from orders.services.placing.recharge import place_recharge
from orders.services.placing.renewal import place_renewal
from orders.services.placing.replacement import place_replacement
from plans.models import Operator, Plan


def place_order(
    *,
    kind: str,
    plan: Plan,
    quantity: int = 1,
    sim: Sim | None = None,
    msisdn: str = "",
    operator: Operator | None = None,
    **terms: Unpack[Terms],
) -> Order:
    """Place an order of ``kind`` through that kind's own function.

    Kept for the tests that take the kind as a parameter (and refuse an unknown one); the
    application calls ``place_purchase``, ``place_renewal``, ``place_recharge`` and
    ``place_replacement``. What the kind does not take (a number on a purchase) is left out;
    a quantity other than 1 is refused for the kinds sold one at a time.
    """
    if kind == Order.Kind.PURCHASE:
        return place_purchase(plan=plan, quantity=quantity, **terms)
    if kind not in Order.Kind.values:
        raise OrderError("kind_invalid", "Unknown order kind.")
    check_quantity(quantity, 1)
    if kind == Order.Kind.RECHARGE:
        return place_recharge(msisdn=msisdn, plan=plan, operator=operator, **terms)
    if kind == Order.Kind.RENEWAL:
        return place_renewal(sim=sim, plan=plan, **terms)
    return place_replacement(sim=sim, plan=plan, **terms)
