"""Telling the customer an automatic renewal failed: an in-site notification and an email.

Once per charge attempt: the ``orders.Notification`` unique (sim, kind, period_key) row is
inserted first, and only the insert that succeeds sends the email.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Language
from core.brand import sender
from core.phone import national_number
from orders.models.notifications import Notification


def customer_language(user) -> str:
    profile = getattr(user, "profile", None)
    return getattr(profile, "preferred_language", "") or Language.CHINESE


def wants_email(user) -> bool:
    profile = getattr(user, "profile", None)
    return True if profile is None else profile.notify_by_email


def failure_texts(*, renewal, final: bool, language: str) -> tuple[str, str]:
    sim = renewal.sim
    with translation.override(language):
        values = {
            "sim": national_number(sim.msisdn) or f"…{sim.iccid[-6:]}",
            "date": timezone.localtime(sim.expires_at).strftime("%Y-%m-%d %H:%M"),
            "card": renewal.payment_method.label,
            "url": settings.SITE_URL + reverse("sims:auto_renew", args=[sim.iccid]),
        }
        title = _("Automatic renewal of %(sim)s failed") % values
        body = (
            _(
                "We could not charge your card %(card)s to renew SIM %(sim)s, which expires on "
                "%(date)s."
            )
            % values
        )
        if final:
            body += " " + _("We will not try again: renew the SIM yourself before it expires.")
        else:
            body += " " + _("We will try once more in a few hours.")
        body += " " + _("Change the card or renew now: %(url)s") % values
    return title, body


def notify_auto_renew_failed(*, renewal, charge, error: str, final: bool) -> bool:
    """Notify the SIM's owner of a failed attempt; False when this attempt was already notified."""
    user = renewal.sim.owner
    if user is None or not user.is_active:
        return False
    language = customer_language(user)
    title, body = failure_texts(renewal=renewal, final=final, language=language)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                sim=renewal.sim,
                kind=Notification.Kind.AUTO_RENEW_FAILED,
                period_key=f"{charge.period_key}#{charge.attempts}"[:64],
                period_end=renewal.sim.expires_at,
                title=title,
                body=body,
            )
    except IntegrityError:
        return False
    if wants_email(user):
        try:
            EmailMultiAlternatives(
                subject=title, body=body, from_email=sender(language), to=[user.email]
            ).send()
            notification.channels = [Notification.Channel.EMAIL]
        except Exception as exc:  # the in-site notification stands; keep why email failed
            notification.error = str(exc)[:2000]
        notification.save(update_fields=["channels", "error"])
    return True
