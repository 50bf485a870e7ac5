"""Admin pages that come from libraries (groups, email addresses, authenticators), audited too."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.models import Group

from portal.admin_audit import AuditedAdminMixin

LIBRARY_MODELS = [Group, EmailAddress, Authenticator]


def audit_library_admins() -> None:
    """Wrap the registered admin of each library model in the audit mixin (after autodiscovery)."""
    for model in LIBRARY_MODELS:
        registered = type(admin.site.get_model_admin(model))
        if issubclass(registered, AuditedAdminMixin):
            continue
        admin.site.unregister(model)
        audited = type(registered.__name__, (AuditedAdminMixin, registered), {})
        admin.site.register(model, audited)
