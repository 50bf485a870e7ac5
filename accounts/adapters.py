"""allauth hooks: every account that signs up gets a customer profile in the visitor's language;
allauth's emails carry the brand (greeting, subject, sender) in the visitor's language."""

from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.utils.translation import get_language

from accounts.models import CustomerProfile, Language
from core.brand import brand_name, sender


@dataclass(frozen=True)
class BrandSite:
    """What allauth's email templates read as ``current_site``: the brand and the host."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            active = get_language()
            language = active if active in Language.values else Language.ENGLISH
            CustomerProfile.objects.get_or_create(
                user=user, defaults={"preferred_language": language}
            )
        return user

    def send_mail(self, template_prefix, email, context):
        """Send allauth's email with the brand as the site's name (its host stays the domain)."""
        site = BrandSite(name=brand_name(), domain=get_current_site(allauth_context.request).domain)
        super().send_mail(template_prefix, email, {**context, "current_site": site})

    def format_email_subject(self, subject):
        """``[brand] subject``, the brand in the email's language."""
        return f"[{brand_name()}] {subject}"

    def get_from_email(self):
        """The brand in the email's language, at ``DEFAULT_FROM_EMAIL``'s address."""
        return sender()
