from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import CustomerProfile
from core.validators import normalize_pakistani_mobile, validate_e164


class ProfileForm(forms.ModelForm):
    """Phone number, language and how we may contact the customer."""

    phone = forms.CharField(
        label=_("Mobile number"),
        required=False,
        help_text=_("Pakistani (0300 1234567) or international (+86 138 0013 8000) number."),
    )

    class Meta:
        model = CustomerProfile
        fields = ["preferred_language", "notify_by_email", "notify_by_sms"]
        labels = {
            "preferred_language": _("Language for emails and messages"),
            "notify_by_email": _("Send me reminders by email"),
            "notify_by_sms": _("Send me reminders by SMS"),
        }

    def clean_phone(self):
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        if not raw.startswith("+"):
            return normalize_pakistani_mobile(raw)
        compact = "+" + "".join(ch for ch in raw if ch.isdigit())
        validate_e164(compact)
        return compact

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("notify_by_sms") and not cleaned.get("phone"):
            raise ValidationError(_("Add a mobile number to get reminders by SMS."))
        return cleaned


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput)
    confirm = forms.BooleanField(
        label=_("I understand my account and personal data will be deleted."), required=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("The password is not correct."))
        return password
