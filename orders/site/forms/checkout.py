"""Forms of the customer checkout: choosing how to pay."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Gateway

METHOD_LABELS = {
    "card": _("Card"),
    "alipay": _("Alipay"),
    "wechat_pay": _("WeChat Pay"),
    "bank_transfer": _("Bank transfer"),
    "jazzcash": "JazzCash",
    "easypaisa": "Easypaisa",
    "jazzcash_mobile": _("JazzCash mobile account"),
    "easypaisa_mobile": _("Easypaisa mobile account"),
}
# Help for a gateway's own method, where it differs from the manual method of the same name.
GATEWAY_METHOD_HELP = {
    "jazzcash:jazzcash": _("Pay on JazzCash's secure page: mobile account, card or voucher."),
    "easypaisa:easypaisa": _("Pay on Easypaisa's secure page with your Easypaisa account."),
    "jazzcash:jazzcash_mobile": _(
        "Enter your JazzCash number below, then approve the payment on your phone."
    ),
    "easypaisa:easypaisa_mobile": _(
        "Enter your Easypaisa number below, then approve the payment on your phone."
    ),
}
LOGOS = {"jazzcash": "portal/icons/jazzcash.svg", "easypaisa": "portal/icons/easypaisa.svg"}
METHOD_HELP = {
    "card": _("Debit or credit card."),
    "alipay": _("Pay in the Alipay app."),
    "wechat_pay": _("Pay in the WeChat app."),
    "bank_transfer": _("Transfer to our bank account, then enter the transfer reference below."),
    "jazzcash": _("Send the amount with JazzCash, then enter the transaction ID (TID) below."),
    "easypaisa": _("Send the amount with Easypaisa, then enter the transaction ID (TID) below."),
}


def method_label(gateway: str, method: str) -> str:
    """How a payment method is named to the customer; the test gateway says so."""
    label = str(METHOD_LABELS.get(method, method))
    if gateway == Gateway.TEST:
        return _("%(method)s (test gateway, no real money)") % {"method": label}
    return label


class PaymentForm(forms.Form):
    """One of the methods open to the order's currency; manual methods need a reference."""

    method = forms.ChoiceField(label=_("Payment method"), widget=forms.RadioSelect)
    reference = forms.CharField(
        label=_("Payment reference (transaction ID)"),
        required=False,
        max_length=100,
    )
    wallet_number = forms.CharField(
        label=_("Wallet mobile number"),
        required=False,
        max_length=20,
        help_text=_("The JazzCash or Easypaisa account to charge, e.g. 0300 1234567."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, data=None, *, methods: list[tuple[str, str]], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["method"].choices = [
            (f"{gateway}:{method}", method_label(gateway, method)) for gateway, method in methods
        ]
        if methods:
            self.fields["method"].initial = self.fields["method"].choices[0][0]
        manual = [method_label(g, m) for g, m in methods if g == Gateway.MANUAL]
        self.fields["reference"].help_text = _("Only for %(methods)s.") % {
            "methods": ", ".join(manual)
        }

    def clean(self):
        data = super().clean()
        choice = data.get("method")
        if choice:
            data["gateway"], data["method_key"] = choice.split(":", 1)
            if data["gateway"] == Gateway.MANUAL and not data.get("reference"):
                self.add_error("reference", _("Enter the reference of your payment."))
        return data

    def method_options(self):
        """(radio, help text, logo) for the template."""
        options = []
        for radio in self["method"]:
            gateway, method = radio.data["value"].split(":", 1)
            help_text = GATEWAY_METHOD_HELP.get(f"{gateway}:{method}", METHOD_HELP.get(method, ""))
            options.append((radio, help_text, LOGOS.get(gateway, "")))
        return options
