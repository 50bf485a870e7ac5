"""Renewing an eSIM: a renewal plan of its operator, for the buyer's own live SIM."""

from typing import Unpack

from orders.models import Order, Sim
from orders.services.placing.core import Terms, own_live_sim, place
from plans.models import Plan


def place_renewal(*, sim: Sim, plan: Plan, **terms: Unpack[Terms]) -> Order:
    """Order ``plan`` (a renewal plan) for ``sim``; see ``Terms`` for the rest."""
    return place(
        kind=Order.Kind.RENEWAL,
        plan=plan,
        sim=sim,
        check=own_live_sim(sim, plan),
        **terms,
    )
