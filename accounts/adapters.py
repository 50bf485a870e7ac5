"""allauth hooks: every account that signs up gets a customer profile in the visitor's language."""

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import get_language

from accounts.models import CustomerProfile, Language


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            language = (
                Language.CHINESE if (get_language() or "").startswith("zh") else (Language.ENGLISH)
            )
            CustomerProfile.objects.get_or_create(
                user=user, defaults={"preferred_language": language}
            )
        return user
