"""Every write about support conversations: opening, replying, notes, assignment, closing and
rating. Each locks the conversation, writes an audit entry and sends its emails after commit."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Language
from core import audit
from orders.models import Notification, Order, Sim
from support import tasks
from support.attachments import sanitize_screenshots, store_screenshots
from support.errors import SupportError
from support.models import Conversation, Message

Author = Message.Author
MAX_BODY = 5000


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise SupportError("body_required", _("Please write your message."), "body")
    if len(body) > MAX_BODY:
        message = _("Please keep a message under %(max)d characters.") % {"max": MAX_BODY}
        raise SupportError("body_too_long", message, "body")
    return body


def _owner_filter(customer, partner) -> dict:
    return {"partner": partner} if partner is not None else {"customer": customer}


def find_reference(*, customer=None, partner=None, order_number="", iccid=""):
    """The order and SIM a conversation is about, refused unless they are the owner's."""
    order = sim = None
    if order_number:
        order = Order.objects.filter(
            number=order_number, **_owner_filter(customer, partner)
        ).first()
        if order is None:
            raise SupportError("order_not_found", _("This order is not in your account."), "order")
    if iccid:
        owner = {"partner": partner} if partner is not None else {"owner": customer}
        sim = Sim.objects.filter(iccid=iccid, **owner).first()
        if sim is None:
            raise SupportError("sim_not_found", _("This SIM is not in your account."), "sim")
    return order, sim


def open_conversation(
    *,
    category: str,
    body: str,
    customer=None,
    partner=None,
    subject: str = "",
    order_number: str = "",
    iccid: str = "",
    screenshots=(),
    language: str = "",
) -> Conversation:
    """Open a conversation for a customer (or a partner); nothing is created on bad input."""
    if (customer is None) == (partner is None):
        raise ValueError("A conversation belongs to a customer or to a partner.")
    if category not in Conversation.Category.values:
        raise SupportError("category_invalid", _("Please choose a topic."), "category")
    body = _clean_body(body)
    order, sim = find_reference(
        customer=customer, partner=partner, order_number=order_number, iccid=iccid
    )
    images = sanitize_screenshots(screenshots)
    subject = (subject or "").strip()[:200] or body.splitlines()[0][:200]
    if not language and customer is not None:
        language = getattr(getattr(customer, "profile", None), "preferred_language", "")
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            customer=customer,
            partner=partner,
            category=category,
            subject=subject,
            order=order,
            sim=sim or (order.sim if order else None),
            language=language if language in Language.values else Language.CHINESE,
            waiting_since=now,
            last_message_at=now,
        )
        message = Message.objects.create(
            conversation=conversation,
            author_kind=Author.PARTNER if partner is not None else Author.CUSTOMER,
            author=customer,
            body=body,
        )
        store_screenshots(message, images)
        audit.record(
            action="support.opened",
            target=conversation,
            actor=customer,
            actor_label=f"partner:{partner.slug}" if partner is not None else "",
            after={"category": category, "order": order_number, "sim": iccid},
        )
        tasks.notify_staff.delay_on_commit(message.pk)
    return conversation


def _locked(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_for_update().get(pk=conversation.pk)


def customer_reply(
    *, conversation: Conversation, body: str, customer=None, partner=None, screenshots=()
) -> Message:
    """The customer (or partner) writes again; a closed conversation opens again."""
    body = _clean_body(body)
    images = sanitize_screenshots(screenshots)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(conversation)
        reopened = locked.status == Conversation.Status.CLOSED
        locked.status = Conversation.Status.OPEN
        locked.closed_at = None
        locked.waiting_since = locked.waiting_since or now
        locked.last_message_at = now
        locked.read_by_customer_at = now
        locked.save()
        message = Message.objects.create(
            conversation=locked,
            author_kind=Author.PARTNER if partner is not None else Author.CUSTOMER,
            author=customer,
            body=body,
        )
        store_screenshots(message, images)
        audit.record(
            action="support.reopened" if reopened else "support.customer_replied",
            target=locked,
            actor=customer,
            actor_label=f"partner:{partner.slug}" if partner is not None else "",
        )
        tasks.notify_staff.delay_on_commit(message.pk)
    conversation.refresh_from_db()
    return message


def staff_reply(*, conversation: Conversation, staff, body: str, internal: bool = False) -> Message:
    """Staff answer the customer (who is notified) or leave an internal note (never shown)."""
    body = _clean_body(body)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(conversation)
        if not internal:
            locked.waiting_since = None
            locked.staff_replied_at = now
            locked.last_message_at = now
            if locked.assigned_to_id is None:
                locked.assigned_to = staff
            locked.save()
        message = Message.objects.create(
            conversation=locked,
            author_kind=Author.STAFF,
            author=staff,
            body=body,
            internal=internal,
        )
        audit.record(
            action="support.note_added" if internal else "support.staff_replied",
            target=locked,
            actor=staff,
            after={"message": message.pk},
        )
        if not internal:
            _notice_in_site(locked, message)
            tasks.notify_customer.delay_on_commit(message.pk)
    conversation.refresh_from_db()
    return message


NOTICE_PREVIEW = 300


def _notice_in_site(conversation: Conversation, message: Message) -> None:
    """The customer's in-site notice of a staff answer (partners read theirs in the API)."""
    if conversation.customer_id is None:
        return
    with translation.override(conversation.language):
        title = gettext("Customer service answered: %(subject)s") % {
            "subject": conversation.subject
        }
    preview = (
        message.body if len(message.body) <= NOTICE_PREVIEW else message.body[:NOTICE_PREVIEW] + "…"
    )
    url = settings.SITE_URL + reverse("support:detail", args=[conversation.pk])
    Notification.objects.create(
        user_id=conversation.customer_id,
        kind=Notification.Kind.SUPPORT_REPLY,
        period_key=f"support-message-{message.pk}",
        title=title[: Notification._meta.get_field("title").max_length],
        body=f"{preview}\n\n {url}",
    )


def assign(*, conversation: Conversation, assignee, actor) -> Conversation:
    """Give the conversation to a staff member (``assignee`` None: to nobody)."""
    if assignee is not None and not (assignee.is_active and assignee.is_staff):
        raise SupportError("assignee_invalid", _("Only active staff can be assigned."))
    with transaction.atomic():
        locked = _locked(conversation)
        before = locked.assigned_to_id
        if before == getattr(assignee, "pk", None):
            return locked
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to"])
        audit.record(
            action="support.assigned",
            target=locked,
            actor=actor,
            before={"assigned_to": before},
            after={"assigned_to": getattr(assignee, "pk", None)},
        )
    conversation.refresh_from_db()
    return locked


def close(*, conversation: Conversation, actor=None, actor_label: str = "") -> Conversation:
    """Close the conversation (the customer's or staff's choice); closing twice does nothing."""
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status == Conversation.Status.CLOSED:
            return locked
        locked.status = Conversation.Status.CLOSED
        locked.closed_at = timezone.now()
        locked.waiting_since = None
        locked.save()
        audit.record(action="support.closed", target=locked, actor=actor, actor_label=actor_label)
    conversation.refresh_from_db()
    return locked


def rate(*, conversation: Conversation, customer, score, comment: str = "") -> Conversation:
    """The customer rates a closed conversation once, 1 to 5 with an optional comment."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise SupportError("rating_invalid", _("Please choose 1 to 5 stars."), "rating")
    with transaction.atomic():
        locked = _locked(conversation)
        if locked.status != Conversation.Status.CLOSED:
            raise SupportError("not_closed", _("A conversation is rated once it is closed."))
        if locked.rating is not None:
            raise SupportError("already_rated", _("You have already rated this conversation."))
        locked.rating = score
        locked.rating_comment = (comment or "").strip()[:2000]
        locked.rated_at = timezone.now()
        locked.save()
        audit.record(action="support.rated", target=locked, actor=customer, after={"rating": score})
    conversation.refresh_from_db()
    return locked


def mark_read(*, conversation: Conversation) -> None:
    """The customer has seen the thread: the "new reply" badge goes."""
    if conversation.unread_reply:
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(read_by_customer_at=now)
        conversation.read_by_customer_at = now
