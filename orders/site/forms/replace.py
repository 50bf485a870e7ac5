from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.documents import DocumentRejected, sanitize_image
from accounts.models import DocumentType
from core.money import Currency
from orders.models import ReplacementTicket
from orders.services.errors import OrderError
from orders.services.replacement import normalize_document_number

IMAGE_ACCEPT = "image/jpeg,image/png,image/heic,image/heif"


def image_field(label, help_text):
    return forms.FileField(
        label=label,
        help_text=help_text,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )


class ReplacementForm(forms.Form):
    """What a customer sends to ask for a replacement eSIM (补卡)."""

    reason = forms.ChoiceField(
        label=_("Why do you need a replacement?"), choices=ReplacementTicket.Reason.choices
    )
    full_name = forms.CharField(label=_("Full name, exactly as on your document"), max_length=200)
    document_type = forms.ChoiceField(
        label=_("Document"), choices=DocumentType.choices, widget=forms.RadioSelect
    )
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=30,
        help_text=_("CNIC: 13 digits. Passport: letters and digits as printed."),
    )
    front = image_field(
        _("Photo of the document (front)"),
        _("JPEG, PNG or HEIC, up to 10 MB. All four corners visible."),
    )
    back = image_field(
        _("Photo of the document (back)"), _("For a passport: the page with your photo again.")
    )
    selfie = image_field(
        _("Selfie holding the document"), _("Your face and the document both clearly visible.")
    )
    delivery_address = forms.CharField(
        label=_("Delivery address for the new SIM"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    currency = forms.ChoiceField(label=_("Pay any fee in"), choices=Currency.choices)

    def _checked_image(self, name):
        upload = self.cleaned_data[name]
        try:
            sanitize_image(upload)
        except DocumentRejected as rejected:
            raise forms.ValidationError(rejected.message, code=rejected.code) from rejected
        upload.seek(0)
        return upload

    def clean_front(self):
        return self._checked_image("front")

    def clean_back(self):
        return self._checked_image("back")

    def clean_selfie(self):
        return self._checked_image("selfie")

    def clean_document_number(self):
        try:
            return normalize_document_number(
                self.data.get("document_type", ""), self.cleaned_data["document_number"]
            )
        except OrderError as error:
            raise forms.ValidationError(error.message, code=error.code) from error

    def __init__(self, *args, physical: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not physical:
            del self.fields["delivery_address"]
        else:
            self.fields["delivery_address"].required = True
