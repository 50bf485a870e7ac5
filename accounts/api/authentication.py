"""Partner API keys: ``Authorization: Bearer <prefix>.<secret>``."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from accounts.models import ApiKey
from accounts.services import find_api_key
from core.api.throttling import auth_blocked_for, record_auth_failure

LAST_USED_RESOLUTION = timedelta(minutes=1)
AUTH_FAILURES_THROTTLED = _("Too many wrong API keys from this address.")


class PartnerPrincipal:
    """The authenticated caller: a partner acting through one API key."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.partner = api_key.partner
        self.pk = None

    def __str__(self):
        return f"partner:{self.partner.slug}"


def bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        """The key's partner; 401 for a wrong key, 429 once its address guessed too many.

        A blocked address is refused before its key is looked at, a right key included:
        otherwise the answer would tell a guesser which guess was right.
        """
        token = bearer_token(request)
        if not token:
            return None
        address = client_ip(request)
        wait = auth_blocked_for(address)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=str(AUTH_FAILURES_THROTTLED))
        api_key = find_api_key(token)
        if api_key is None:
            record_auth_failure(address)
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        if api_key.allowed_ips and client_ip(request) not in api_key.allowed_ips:
            raise exceptions.PermissionDenied("This API key is not allowed from this address.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return PartnerPrincipal(api_key), api_key

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
