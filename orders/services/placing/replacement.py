"""The fee order of an approved replacement: a new SIM (an eSIM, or a card sent by post) for the
buyer's own SIM, same number."""

from typing import Unpack

from orders.models import Order, Sim
from orders.services.placing.core import Terms, own_live_sim, place
from plans.models import Plan


def place_replacement(*, sim: Sim, plan: Plan, **terms: Unpack[Terms]) -> Order:
    """Order ``plan`` (a replacement plan, its fee possibly 0) for ``sim``; see ``Terms``."""
    return place(
        kind=Order.Kind.REPLACEMENT,
        plan=plan,
        sim=sim,
        check=own_live_sim(sim, plan, forms=(Sim.Form.ESIM, Sim.Form.PHYSICAL)),
        **terms,
    )
