"""Forms of the My SIMs pages."""

from django import forms
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from core.money import Currency
from orders.models import Sim
from plans.models import Plan, PlanKind, PlanPrice


def renewal_plans(sim: Sim, currency: str) -> QuerySet[Plan]:
    """Active renewal plans for the SIM's operator that are priced in ``currency``."""
    price = PlanPrice.objects.filter(plan=OuterRef("pk"), currency=currency).values("amount")
    return (
        Plan.objects.filter(kind=PlanKind.RENEWAL, is_active=True, operator_id=sim.operator_id)
        .supplied()
        .annotate(price_amount=Subquery(price[:1]))
        .filter(price_amount__isnull=False)
    )


class RenewForm(forms.Form):
    """A renewal plan that fits the SIM, in the currency whose price the customer saw."""

    plan = forms.ModelChoiceField(
        queryset=Plan.objects.none(),
        label=_("Plan"),
        error_messages={
            "required": _("Choose a plan."),
            "invalid_choice": _("This plan cannot renew this SIM. Choose one of the plans shown."),
        },
    )
    currency = forms.ChoiceField(choices=Currency.choices, widget=forms.HiddenInput)

    def __init__(self, *args, sim: Sim, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.get("currency") if self.is_bound else None
        if posted in Currency.values:
            currency = posted
        self.fields["plan"].queryset = renewal_plans(sim, currency)
