"""The plan page's buy form: a currency the plan is priced in, an optional promotion code and the
customer's word that their phone supports eSIM."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import quantize


class BuyForm(forms.Form):
    """Currency (one the plan is priced in), an optional promotion code, and a ticked box that
    the phone supports eSIM (most iPhones sold in mainland China, Hong Kong and Macao do not)."""

    currency = forms.ChoiceField(label=_("Pay in"))
    promotion_code = forms.CharField(
        label=_("Promotion code"), required=False, max_length=40, strip=True
    )
    esim_compatible = forms.BooleanField(
        label=_("My phone supports eSIM and is not locked to one operator."),
        error_messages={
            "required": _(
                "Please confirm that your phone supports eSIM. Not sure? Check it first: an eSIM "
                "cannot be used on a phone without eSIM."
            )
        },
    )

    def __init__(self, data=None, *, prices, currency: str = "", **kwargs):
        super().__init__(data, **kwargs)
        self.fields["currency"].choices = [
            (price.currency, f"{price.currency} {quantize(price.amount, price.currency)}")
            for price in prices
        ]
        priced = [price.currency for price in prices]
        self.fields["currency"].initial = currency if currency in priced else priced[0]
