"""Forms of the auto-renew page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import SavedPaymentMethod, Sim
from orders.services.autorenew.cards import usable_methods
from orders.site.forms.sim import RenewForm


class CardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SavedPaymentMethod) -> str:
        return obj.label


class AutoRenewForm(RenewForm):
    """A renewal plan that fits the SIM (priced in the currency shown) and a saved card."""

    payment_method = CardChoiceField(
        queryset=SavedPaymentMethod.objects.none(),
        label=_("Card"),
        error_messages={
            "required": _("Choose a card."),
            "invalid_choice": _("Choose one of your saved cards."),
        },
    )

    def __init__(self, *args, sim: Sim, currency: str, **kwargs):
        super().__init__(*args, sim=sim, currency=currency, **kwargs)
        self.fields["plan"].label = _("Renewal plan")
        self.fields["payment_method"].queryset = usable_methods(sim.owner)
