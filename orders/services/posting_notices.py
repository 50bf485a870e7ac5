"""Telling a customer where their new SIM card is: shipped (with the courier's tracking link),
its tracking corrected, and activated, by email and in-site.

Once per step: the in-site ``Notification`` (unique per SIM, kind and period key) is inserted
first, and only the run that inserted it sends the email, so a task run twice sends once.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import audit
from core.brand import sender
from core.chinese import SIMPLIFIED, TRADITIONAL, for_language
from orders.models import Notification, ReplacementTicket
from orders.services.autorenew.notices import customer_language

KINDS = {
    "shipped": Notification.Kind.REPLACEMENT_SHIPPED,
    "tracking_corrected": Notification.Kind.REPLACEMENT_SHIPPED,
    "activated": Notification.Kind.REPLACEMENT_ACTIVATED,
}
CORRECTED = "replacement.tracking_corrected"  # the audit action of a correction
SUBJECTS = {
    "shipped": ("新 SIM 卡已寄出", "Your new SIM card is on its way"),
    "tracking_corrected": ("新 SIM 卡的物流单号已更正", "Your new SIM card's tracking, corrected"),
    "activated": ("新 SIM 卡已激活", "Your new SIM card is active"),
}


def send_posting_notice(ticket: ReplacementTicket, event: str) -> bool:
    """The customer's notice of ``event`` ("shipped" or "activated"); False when already sent
    (or the SIM has no active customer)."""
    customer = ticket.sim.owner
    if customer is None or not customer.is_active:
        return False
    language = customer_language(customer)
    chinese = TRADITIONAL if language == TRADITIONAL else SIMPLIFIED
    title, body = _texts(ticket, event, language)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=customer,
                sim=ticket.sim,
                kind=KINDS[event],
                period_key=_period_key(ticket, event),
                title=title,
                body=body,
            )
    except IntegrityError:
        return False
    context = _context(ticket)
    bodies = []
    for part_language in (chinese, "en"):
        with translation.override(part_language):
            bodies.append(render_to_string(f"orders/email/replacement_{event}.txt", context))
    try:
        EmailMultiAlternatives(
            subject=f"{for_language(SUBJECTS[event][0], chinese)} / {SUBJECTS[event][1]}",
            body="\n\n----------\n\n".join(bodies),
            from_email=sender(bilingual=True, chinese=chinese),
            to=[customer.email],
        ).send()
        notification.channels = [Notification.Channel.EMAIL]
    except Exception as exc:  # the in-site notice stands; keep why the email failed
        notification.error = str(exc)[:2000]
    notification.sent_at = timezone.now()
    notification.save(update_fields=["channels", "error", "sent_at"])
    audit.record(action=f"replacement.email_{event}", target=ticket, actor_label="worker")
    return True


def _period_key(ticket: ReplacementTicket, event: str) -> str:
    """Once per step; a corrected tracking once per correction (the latest, when several come
    before the notice is sent)."""
    if event == "tracking_corrected":
        corrections = audit.entries_for(ticket).filter(action=CORRECTED).count()
        return f"replacement-{ticket.pk}-corrected-{corrections}"
    return f"replacement-{ticket.pk}"


def _context(ticket: ReplacementTicket) -> dict:
    return {
        "ticket": ticket,
        "status_url": settings.SITE_URL + reverse("sims:replace", args=[ticket.sim.iccid]),
        "support_email": settings.SUPPORT_EMAIL,
        "shipped_at": timezone.localtime(ticket.shipped_at) if ticket.shipped_at else None,
    }


def _texts(ticket: ReplacementTicket, event: str, language: str) -> tuple[str, str]:
    with translation.override(language):
        values = {
            "courier": ticket.courier_name,
            "number": ticket.tracking_number,
            "url": ticket.tracking_url,
            "status_url": settings.SITE_URL + reverse("sims:replace", args=[ticket.sim.iccid]),
        }
        if event == "shipped":
            title = _("Your new SIM card is on its way")
            body = _(
                "We sent your new SIM card with %(courier)s, tracking number %(number)s. "
                "Track it: %(url)s Your old SIM keeps working until you confirm the new one "
                "works: %(status_url)s"
            )
        elif event == "tracking_corrected":
            title = _("Your new SIM card's tracking, corrected")
            body = _(
                "We corrected the tracking of your new SIM card: it is on its way with "
                "%(courier)s, tracking number %(number)s. Track it: %(url)s"
            )
        else:
            title = _("Your new SIM card is active")
            body = _("Your new SIM card is active and your old SIM no longer works.")
        return title, body % values
