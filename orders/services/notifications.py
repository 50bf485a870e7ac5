"""Customer emails about orders, in Chinese (the customer's script) and English in one message.

The order-ready email is sent once: the send claims the order (``ready_email_claimed_at``, a
conditional UPDATE) and a failed send gives the claim back. The task queued when the order is
fulfilled sends it; :func:`send_unsent_ready_emails` sends the ones whose task was lost or whose
send failed.
"""

import logging
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from core import audit
from core.brand import sender
from core.chinese import SIMPLIFIED, TRADITIONAL, for_language
from core.saves import update_if
from core.sweeps import item_failure_logged
from orders.models import Notification, Order, Sim
from orders.notifications import unread
from orders.services import posting_notices

READY_EMAIL_ACTION = "order.ready_email_sent"
# The sweep sends an order's ready email once the order has been fulfilled this long (its own
# task has had its chance); after GIVE_UP_AFTER it leaves it (the order page still shows it).
READY_EMAIL_RESEND_AFTER = timedelta(minutes=2)
READY_EMAIL_GIVE_UP_AFTER = timedelta(days=2)
SWEEP_BATCH = 100
logger = logging.getLogger(__name__)
IOS_INSTALL_URL = "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="
ANDROID_INSTALL_URL = "https://esimsetup.android.com/esim_qrcode_provisioning?carddata="


def install_links(activation_code: str) -> dict[str, str]:
    """One-tap install links carrying the LPA activation code."""
    encoded = quote(activation_code, safe="")
    return {"ios": IOS_INSTALL_URL + encoded, "android": ANDROID_INSTALL_URL + encoded}


def chinese_of(user) -> str:
    """The Chinese the customer reads: Traditional if they chose it, else Simplified."""
    profile = getattr(user, "profile", None)
    chosen = getattr(profile, "preferred_language", "")
    return TRADITIONAL if chosen == TRADITIONAL else SIMPLIFIED


def send_order_ready_email(order_id: int, *, force: bool = False, actor=None) -> bool:
    """Email the customer that the order is ready, with every eSIM's activation details; once.

    ``force`` sends it again (the customer, or staff as ``actor``, asked for a resend); every
    send is audited.
    """
    if not force and not _claim_ready_email(order_id):
        return False
    order = Order.objects.select_related("customer", "plan__operator", "sim").get(pk=order_id)
    if order.customer is None or (
        not force and audit.entries_for(order).filter(action=READY_EMAIL_ACTION).exists()
    ):
        return False
    issued = list(order.issued_sims.order_by("pk"))
    if issued and all(sim.form == Sim.Form.PHYSICAL for sim in issued):
        return False  # a SIM card goes by post: its own emails say when it is shipped
    try:
        _ready_email(order, issued).send()
    except Exception:
        if not force:
            update_if(Order, order_id, where={}, values={"ready_email_claimed_at": None})
        raise
    audit.record(
        action=READY_EMAIL_ACTION,
        target=order,
        actor=actor or (order.customer if force else None),
        actor_label="" if force else "worker",
        note=order.customer.email,
    )
    return True


def _claim_ready_email(order_id: int) -> bool:
    unclaimed, claim = {"ready_email_claimed_at": None}, {"ready_email_claimed_at": timezone.now()}
    return update_if(Order, order_id, where=unclaimed, values=claim)


def _ready_email(order: Order, issued: list[Sim]) -> EmailMultiAlternatives:
    sims = [{"sim": sim, "links": install_links(sim.activation_code)} for sim in issued]
    context = {"order": order, "sims": sims, "support_email": settings.SUPPORT_EMAIL}
    chinese = chinese_of(order.customer)
    parts = []
    for language in (chinese, "en"):
        with translation.override(language):
            parts.append(
                {
                    "text": render_to_string("orders/email/order_ready.txt", context),
                    "html": render_to_string("orders/email/order_ready_body.html", context),
                }
            )
    zh = for_language(f"您的订单 {order.number} 已就绪", chinese)
    subject = f"{zh} / Your order {order.number} is ready"
    message = EmailMultiAlternatives(
        subject=subject,
        body="\n\n----------\n\n".join(part["text"] for part in parts),
        from_email=sender(bilingual=True, chinese=chinese),
        to=[order.customer.email],
    )
    html = render_to_string(
        "orders/email/order_ready.html",
        {"bodies": [part["html"] for part in parts], "subject": subject},
    )
    message.attach_alternative(html, "text/html")
    return message


def send_unsent_ready_emails() -> int:
    """Send the ready emails of customers' orders fulfilled lately that nobody has claimed (the
    task was lost, or a send failed and gave its claim back), oldest first; how many went."""
    now = timezone.now()
    unsent = Order.objects.filter(
        customer__isnull=False,
        status=Order.Status.FULFILLED,
        fulfilled_at__lte=now - READY_EMAIL_RESEND_AFTER,
        fulfilled_at__gte=now - READY_EMAIL_GIVE_UP_AFTER,
        ready_email_claimed_at__isnull=True,
    ).order_by("fulfilled_at")
    sent = 0
    for order_id in unsent.values_list("pk", flat=True)[:SWEEP_BATCH]:
        with item_failure_logged(logger, "Order %s: ready email not sent, tried again", order_id):
            sent += send_order_ready_email(order_id)
    return sent


def send_replacement_email(ticket_id: int, event: str) -> None:
    """Tell the customer where their replacement request stands (requested/approved/rejected,
    and for a SIM card by post shipped/activated)."""
    from orders.models import ReplacementTicket

    ticket = ReplacementTicket.objects.select_related(
        "sim__operator", "sim__owner", "identity_check", "order"
    ).get(pk=ticket_id)
    if event in posting_notices.KINDS:
        posting_notices.send_posting_notice(ticket, event)
        return
    customer = ticket.sim.owner
    if customer is None or not customer.is_active:
        return
    context = {
        "ticket": ticket,
        "check": ticket.identity_check,
        "status_url": settings.SITE_URL + reverse("sims:replace", args=[ticket.sim.iccid]),
        "pay_url": settings.SITE_URL + reverse("orders:pay", args=[ticket.order.number])
        if ticket.order and ticket.order.total > 0
        else "",
        "support_email": settings.SUPPORT_EMAIL,
    }
    chinese = chinese_of(customer)
    bodies = []
    for language in (chinese, "en"):
        with translation.override(language):
            bodies.append(render_to_string(f"orders/email/replacement_{event}.txt", context))
    zh, en = {
        "requested": ("补卡申请已收到", "Replacement request received"),
        "approved": ("补卡申请已通过", "Replacement approved"),
        "rejected": ("补卡申请未通过", "Replacement request not approved"),
    }[event]
    EmailMultiAlternatives(
        subject=f"{for_language(zh, chinese)} / {en}",
        body="\n\n----------\n\n".join(bodies),
        from_email=sender(bilingual=True, chinese=chinese),
        to=[customer.email],
    ).send()
    audit.record(action=f"replacement.email_{event}", target=ticket, actor_label="worker")


def mark_notifications_read(*, user: User) -> int:
    """Mark all of the user's unread in-site notifications as read; return how many."""
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    unread.changed([user.pk])
    return marked
