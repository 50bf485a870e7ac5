"""Support emails: the customer hears of a staff answer, staff of a customer's message.

Each message is emailed once: the send claims it (``notified_at``, a conditional UPDATE), and a
failed send gives the claim back so the task's retry sends it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.brand import brand_name, sender
from core.sweeps import item_failure_logged
from support.models import Message

STAFF_LANGUAGE = "zh-hans"  # the admin's language
# A message's email is sent again by the sweep once its first send has had this long; after
# GIVE_UP_AFTER nobody is emailed about it any more (the thread still shows it).
RESEND_AFTER = timedelta(minutes=2)
GIVE_UP_AFTER = timedelta(days=2)
SWEEP_BATCH = 100
logger = logging.getLogger(__name__)


def _claim(message_id: int) -> Message | None:
    claimed = Message.objects.filter(pk=message_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if not claimed:
        return None
    return Message.objects.select_related(
        "conversation__customer", "conversation__partner", "conversation__order"
    ).get(pk=message_id)


def _send(message: Message, email: EmailMultiAlternatives) -> bool:
    try:
        email.send()
    except Exception:
        Message.objects.filter(pk=message.pk).update(notified_at=None)
        raise
    return True


def email_customer(message_id: int) -> bool:
    """Email the customer (or the partner's contact) a staff answer, in their language."""
    message = _claim(message_id)
    if message is None or message.internal or message.author_kind != Message.Author.STAFF:
        return False
    conversation = message.conversation
    if conversation.customer is not None:
        to, language = conversation.customer.email, conversation.language
        url = settings.SITE_URL + reverse("support:detail", args=[conversation.pk])
    else:
        to, language, url = conversation.partner.contact_email, "en", ""
    if not to:
        return False
    with translation.override(language):
        context = {"conversation": conversation, "message": message, "url": url}
        context["brand"] = brand_name()
        subject = _("%(brand)s support answered: %(subject)s") % {
            "brand": context["brand"],
            "subject": conversation.subject,
        }
        body = render_to_string("support/email/staff_reply.txt", context)
        email = EmailMultiAlternatives(
            subject=subject, body=body, from_email=sender(language), to=[to]
        )
    return _send(message, email)


def email_staff(message_id: int) -> bool:
    """Email the support inbox that a customer or partner opened or wrote to a conversation."""
    message = _claim(message_id)
    if message is None or message.author_kind == Message.Author.STAFF:
        return False
    conversation = message.conversation
    url = settings.SITE_URL + reverse("admin:support_conversation_change", args=[conversation.pk])
    with translation.override(STAFF_LANGUAGE):
        context = {"conversation": conversation, "message": message, "url": url}
        first = conversation.messages.order_by("pk").values_list("pk", flat=True).first()
        context["opened"] = first == message.pk
        subject = _("Support #%(id)s: %(subject)s") % {
            "id": conversation.pk,
            "subject": conversation.subject,
        }
        body = render_to_string("support/email/customer_message.txt", context)
        email = EmailMultiAlternatives(
            subject=subject,
            body=body,
            from_email=sender(STAFF_LANGUAGE),
            to=[settings.SUPPORT_INBOX_EMAIL],
        )
    return _send(message, email)


def send_unsent() -> int:
    """Send the emails of messages left unsent (oldest first, a batch at a time); how many went."""
    now = timezone.now()
    unsent = Message.objects.filter(
        notified_at__isnull=True,
        internal=False,
        created_at__lte=now - RESEND_AFTER,
        created_at__gte=now - GIVE_UP_AFTER,
    ).order_by("created_at")
    sent, failed = 0, "Support message %s: email not sent, tried again later"
    for message_id, author in unsent.values_list("pk", "author_kind")[:SWEEP_BATCH]:
        send = email_customer if author == Message.Author.STAFF else email_staff
        with item_failure_logged(logger, failed, message_id):
            sent += send(message_id)
    return sent
