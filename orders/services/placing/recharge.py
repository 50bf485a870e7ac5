"""Recharging a Pakistani mobile number with airtime from its operator."""

from typing import Unpack

from django.utils.translation import gettext as _

from core.validators import normalize_pakistani_mobile
from orders.models import Order
from orders.services.errors import OrderError
from orders.services.placing.core import Terms, place
from plans.models import Operator, OperatorPrefix, Plan


def detect_operator(msisdn: str) -> Operator | None:
    """The operator whose prefix the E.164 Pakistani number starts with (a guess: numbers port)."""
    national = msisdn.removeprefix("+92")
    prefix = OperatorPrefix.objects.select_related("operator").filter(prefix=national[:3]).first()
    return prefix.operator if prefix else None


def place_recharge(
    *, msisdn: str, plan: Plan, operator: Operator | None = None, **terms: Unpack[Terms]
) -> Order:
    """Order ``plan`` (a recharge plan) for the number ``msisdn``, in any usual Pakistani form.

    ``operator`` is the number's operator when the buyer knows it (numbers port); left out, it
    is guessed from the prefix. See ``Terms`` for the rest.
    """
    return place(
        kind=Order.Kind.RECHARGE,
        plan=plan,
        msisdn=msisdn,
        check=lambda customer, partner: _recharged_number(msisdn, operator, plan),
        **terms,
    )


def _recharged_number(msisdn: str, operator: Operator | None, plan: Plan) -> dict:
    try:
        number = normalize_pakistani_mobile(msisdn)
    except Exception as exc:
        raise OrderError("msisdn_invalid", " ".join(exc.messages)) from exc
    operator = operator or detect_operator(number)
    if operator is None or plan.operator_id != operator.pk:
        raise OrderError("plan_does_not_fit", _("This plan is for another operator."))
    return {"recharge_msisdn": number, "recharge_operator": operator}
