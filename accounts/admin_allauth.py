"""allauth's admin lists, re-registered so that each row's user comes in the same query."""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin

from portal.admin_paging import EstimatedCountPaginator


class UserEmailAddressAdmin(EmailAddressAdmin):
    list_select_related = ["user"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


class UserAuthenticatorAdmin(AuthenticatorAdmin):
    list_select_related = ["user"]


for model, model_admin in [
    (EmailAddress, UserEmailAddressAdmin),
    (Authenticator, UserAuthenticatorAdmin),
]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
