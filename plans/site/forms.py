"""The plan page's buy form: a currency the plan is priced in and an optional promotion code."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import quantize


class BuyForm(forms.Form):
    """Currency (one the plan is priced in) and an optional promotion code."""

    currency = forms.ChoiceField(label=_("Pay in"))
    promotion_code = forms.CharField(
        label=_("Promotion code"), required=False, max_length=40, strip=True
    )

    def __init__(self, data=None, *, prices, currency: str = "", **kwargs):
        super().__init__(data, **kwargs)
        self.fields["currency"].choices = [
            (price.currency, f"{price.currency} {quantize(price.amount, price.currency)}")
            for price in prices
        ]
        priced = [price.currency for price in prices]
        self.fields["currency"].initial = currency if currency in priced else priced[0]
