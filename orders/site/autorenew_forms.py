"""Forms of the auto-renew page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import SavedPaymentMethod, Sim
from orders.services.autorenew import usable_methods
from orders.site.sim_forms import renewal_plans
from plans.models import Plan
from portal.money import Currency


class CardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SavedPaymentMethod) -> str:
        return obj.label


class AutoRenewForm(forms.Form):
    """A renewal plan that fits the SIM (priced in the currency shown) and a saved card."""

    plan = forms.ModelChoiceField(
        queryset=Plan.objects.none(),
        label=_("Renewal plan"),
        error_messages={
            "required": _("Choose a plan."),
            "invalid_choice": _("This plan cannot renew this SIM. Choose one of the plans shown."),
        },
    )
    payment_method = CardChoiceField(
        queryset=SavedPaymentMethod.objects.none(),
        label=_("Card"),
        error_messages={
            "required": _("Choose a card."),
            "invalid_choice": _("Choose one of your saved cards."),
        },
    )
    currency = forms.ChoiceField(choices=Currency.choices, widget=forms.HiddenInput)

    def __init__(self, *args, sim: Sim, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        posted = self.data.get("currency") if self.is_bound else None
        if posted in Currency.values:
            currency = posted
        self.fields["plan"].queryset = renewal_plans(sim, currency)
        self.fields["payment_method"].queryset = usable_methods(sim.owner)
