"""Partner API keys: ``Authorization: Bearer <prefix>.<secret>``."""

from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from accounts.api.keys import VerifiedKey, check_presented_key, client_ip
from accounts.models import ApiKey, Partner
from core.api.throttling import auth_blocked_wait, record_auth_failure

AUTH_FAILURES_THROTTLED = _("Too many wrong API keys from this address.")


class PartnerPrincipal:
    """The authenticated caller: a partner acting through one API key.

    The partner is read from the database when a view first asks for it; ``partner_id`` and the
    partner's pricing (``tier``, ``currency``: the key's cached record has them) are free.
    """

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, api_key: VerifiedKey, partner: Partner | None = None):
        self.api_key = api_key
        self.partner_id = api_key.partner_id
        self.tier, self.currency = api_key.tier, api_key.currency
        self.pk = None
        if partner is not None:
            self.partner = partner  # read with the key: no second query

    @cached_property
    def partner(self) -> Partner:
        return Partner.objects.get(pk=self.partner_id)

    def __str__(self):
        return f"partner:{self.partner.slug}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        """The key's partner; 401 for a wrong key, 429 once its address guessed too many.

        A blocked address is refused before its key is looked at, a right key included:
        otherwise the answer would tell a guesser which guess was right.
        """
        check = check_presented_key(request)
        if check is None:
            return None
        if check.blocked:
            raise exceptions.Throttled(
                wait=auth_blocked_wait(), detail=str(AUTH_FAILURES_THROTTLED)
            )
        api_key = check.key
        if api_key is None or not api_key.is_usable:
            record_auth_failure(client_ip(request))
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        if api_key.allowed_ips and client_ip(request) not in api_key.allowed_ips:
            raise exceptions.PermissionDenied("This API key is not allowed from this address.")
        if check.first_use:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        return PartnerPrincipal(api_key, check.partner), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class IsPartner(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, PartnerPrincipal)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "<prefix>.<secret>"}
