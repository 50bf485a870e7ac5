"""The customer site's support forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from support.models import Conversation

IMAGE_ACCEPT = "image/jpeg,image/png,image/heic,image/heif"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ScreenshotsField(forms.FileField):
    """Zero or more image files; they are checked by the service, before anything is stored."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": IMAGE_ACCEPT, "multiple": True})
        )
        super().__init__(required=False, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(ScreenshotsField, self).clean(file, initial) for file in files if file]


def screenshots_field():
    return ScreenshotsField(
        label=_("Screenshots (optional)"),
        help_text=_("Up to 3 photos or screenshots: JPEG, PNG or HEIC, up to 10 MB each."),
    )


class OpenForm(forms.Form):
    """A new question to support, maybe about one order or SIM."""

    category = forms.ChoiceField(
        label=_("What is it about?"), choices=Conversation.Category.choices
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    screenshots = screenshots_field()
    order = forms.CharField(required=False, widget=forms.HiddenInput)
    sim = forms.CharField(required=False, widget=forms.HiddenInput)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    screenshots = screenshots_field()


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How did we do?"),
        coerce=int,
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
