"""Two-factor is required for staff: no admin page until it is set up and used for this session.

Staff sign in through the site's login (allauth, throttled); the admin's own login form only
redirects there. A staff member without a TOTP authenticator is sent to set one up; one with it
whose session was not confirmed with a code is asked for a code first (setting the app up with
a valid code counts as confirming it). Staff who finish setting it up go on to the admin page
they were going to, told where their recovery codes are.
"""

from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import get_next_redirect_url
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from allauth.mfa.totp.views import ActivateTOTPView
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

ADMIN_PREFIX = "/admin/"
OPEN_ADMIN_PATHS = ("/admin/login/", "/admin/logout/")
NEXT_SESSION_KEY = "staff_mfa_next"


def has_totp(user) -> bool:
    """Whether ``user`` has set up an authenticator app."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def session_used_two_factor(request) -> bool:
    """Whether this session's sign-in was confirmed with a second factor."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class StaffTwoFactorMiddleware:
    """Send staff to set up or confirm two-factor before any admin page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect = self._redirect(request)
        return redirect or self.get_response(request)

    def _redirect(self, request):
        user = request.user
        if (
            not request.path.startswith(ADMIN_PREFIX)
            or request.path.startswith(OPEN_ADMIN_PATHS)
            or not (user.is_authenticated and user.is_staff)
        ):
            return None
        if not has_totp(user):
            messages.warning(
                request, _("Staff need two-factor sign-in. Set up an authenticator app first.")
            )
            return _to("mfa_activate_totp", request)
        if not session_used_two_factor(request):
            return _to("mfa_reauthenticate", request)
        return None


@receiver(authenticator_added)
def count_activation_as_two_factor(sender, request, user, authenticator, **kwargs):
    """Entering a valid code to set up the app confirms this session's second factor too."""
    if authenticator.type == Authenticator.Type.TOTP and request is not None:
        record_authentication(request, user, "mfa", type="totp", id=authenticator.pk)


class ActivateTOTP(ActivateTOTPView):
    """allauth's authenticator set-up; staff then go on to the admin page they asked for (not to
    the recovery codes), with a message linking to the codes."""

    def get(self, request, *args, **kwargs):
        next_url = get_next_redirect_url(request)
        if next_url and next_url.startswith(ADMIN_PREFIX):
            request.session[NEXT_SESSION_KEY] = next_url
        return super().get(request, *args, **kwargs)

    def get_success_url(self) -> str:
        if not self.request.user.is_staff:
            return super().get_success_url()
        next_url = self.request.session.pop(NEXT_SESSION_KEY, None) or reverse("admin:index")
        if self.did_generate_recovery_codes:
            messages.success(
                self.request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Two-factor sign-in is on. Keep your recovery codes somewhere safe:"),
                    reverse("mfa_view_recovery_codes"),
                    _("show the recovery codes"),
                ),
            )
        return next_url


def admin_login(request):
    """The admin's login URL: staff sign in on the site's login page, with two-factor."""
    next_url = request.GET.get("next") or reverse("admin:index")
    if request.user.is_authenticated:
        if not request.user.is_staff:
            raise PermissionDenied
        return HttpResponseRedirect(next_url if next_url.startswith(ADMIN_PREFIX) else "/admin/")
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def _to(url_name: str, request) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}"
    )
