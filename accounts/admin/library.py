"""Admin pages that come from libraries (groups, email addresses, authenticators), re-registered
audited like ours, with each row's user fetched in the same query."""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from core.admin.audit import AuditedAdminMixin
from core.admin.paging import EstimatedCountPaginator


class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass


class UserEmailAddressAdmin(AuditedAdminMixin, EmailAddressAdmin):
    list_select_related = ["user"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


class UserAuthenticatorAdmin(AuditedAdminMixin, AuthenticatorAdmin):
    list_select_related = ["user"]


def name_authenticators() -> None:
    """Give allauth's Authenticator, which declares no verbose names, translated ones.

    Only the displayed names change: migrations read the declared options and field arguments.
    """
    meta = Authenticator._meta
    meta.verbose_name, meta.verbose_name_plural = _("authenticator"), _("authenticators")
    labels = {
        "user": _("user"),
        "type": _("type"),
        "data": _("data"),
        "created_at": _("created at"),
        "last_used_at": _("last used at"),
    }
    for name, label in labels.items():
        meta.get_field(name).verbose_name = label


name_authenticators()


for model, model_admin in [
    (Group, AuditedGroupAdmin),
    (EmailAddress, UserEmailAddressAdmin),
    (Authenticator, UserAuthenticatorAdmin),
]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
