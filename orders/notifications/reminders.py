"""Reminder sweeps: expiry in 3 days and 1 day, expired, 80 % and 100 % of data used.

Each sweep selects the due SIMs in SQL (time windows on indexed columns and NOT EXISTS on an
earlier reminder for the same period), walks them in primary-key pages, inserts the notification
rows with ``bulk_create(ignore_conflicts=True)`` and sends only for the rows this run inserted:
the unique constraint decides what is created, so overlapping sweeps cannot send twice.

Delivery is at least once. An inserted row is claimed by its run (``run_id``, ``claimed_at``,
``claims=1``); just before sending a chunk of ``SEND_CHUNK`` rows the run re-checks their claims
(one conditional UPDATE that also restarts the lease) and afterwards records the outcomes and
``sent_at`` (one UPDATE per distinct outcome, after the chunk's partner webhook rows are written
with one INSERT). A row still without ``sent_at``
``REMINDER_RESEND_AFTER_MINUTES`` after its claim (a crash, or a transient email/SMS failure) is
claimed again by a later sweep with a conditional UPDATE (only while it is unsent and its lease
has run out, so of two overlapping sweeps one wins) and sent on the channels it has not reached
yet. After ``MAX_CLAIMS`` claims it is given up and logged.

Emails of one page share a mail connection, and each language's email is rendered once with
placeholders that are then filled (escaped as the template would) for every reminder.
"""

import logging
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts import sms
from accounts.models import Language, User
from core.brand import sender
from core.phone import national_number
from orders.models import Sim
from orders.models.notifications import Notification
from orders.models.partner_webhooks import EventType
from orders.notifications import unread
from orders.partner_webhooks.services import batched_events, emit_sim_event

logger = logging.getLogger(__name__)

Kind = Notification.Kind
BATCH_SIZE = 2000
EXPIRED_LOOKBACK = timedelta(days=2)
LIVE = [Sim.Status.ISSUED, Sim.Status.ACTIVE]
MAX_CLAIMS = 3
SEND_CHUNK = 200
SWEPT_KINDS = [Kind.EXPIRY_3D, Kind.EXPIRY_1D, Kind.EXPIRED, Kind.DATA_80, Kind.DATA_100]
PARTNER_EVENTS = {
    Kind.EXPIRY_3D: EventType.SIM_EXPIRING,
    Kind.EXPIRY_1D: EventType.SIM_EXPIRING,
    Kind.DATA_80: EventType.SIM_LOW_DATA,
    Kind.DATA_100: EventType.SIM_LOW_DATA,
}
SIM_FIELDS = (
    "pk",
    "iccid",
    "msisdn",
    "status",
    "owner_id",
    "partner_id",
    "expires_at",
    "data_total_mb",
    "data_remaining_mb",
)


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str
    language: str
    by_email: bool
    by_sms: bool


def due_filters(now) -> dict[str, Q]:
    """What makes a SIM due for each reminder at ``now`` (before the "already sent" check).

    The 3-day window ends where the 1-day one starts, so a short plan gets one reminder.
    """
    not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    has_quota = Q(status__in=LIVE, data_total_mb__gt=0, data_remaining_mb__isnull=False)
    return {
        Kind.EXPIRY_3D: Q(
            status__in=LIVE,
            expires_at__gt=now + timedelta(days=1),
            expires_at__lte=now + timedelta(days=3),
        ),
        Kind.EXPIRY_1D: Q(
            status__in=LIVE, expires_at__gt=now, expires_at__lte=now + timedelta(days=1)
        ),
        # An expired status is fine here (usage sync may have set it first); replaced and
        # cancelled SIMs never get reminders.
        Kind.EXPIRED: Q(
            status__in=[*LIVE, Sim.Status.EXPIRED],
            expires_at__gt=now - EXPIRED_LOOKBACK,
            expires_at__lte=now,
        ),
        Kind.DATA_80: has_quota
        & not_expired
        & Q(data_remaining_mb__gt=0, data_total_mb__gte=F("data_remaining_mb") * 5),
        Kind.DATA_100: has_quota & not_expired & Q(data_remaining_mb=0),
    }


def due_sims(kind: str, now):
    """SIMs due for ``kind`` that have no reminder of that kind for their current period."""
    sent = Notification.objects.filter(sim=OuterRef("pk"), kind=kind)
    return Sim.objects.filter(
        due_filters(now)[kind],
        Q(owner__isnull=False) | Q(partner__isnull=False),
        Q(~Exists(sent.filter(period_end=OuterRef("expires_at"))), expires_at__isnull=False)
        | Q(~Exists(sent.filter(period_end__isnull=True)), expires_at__isnull=True),
    ).order_by("pk")


def period_key(expires_at) -> str:
    """The SIM's current period: its expiry time in UTC (a renewal starts a new one)."""
    return expires_at.astimezone(UTC).isoformat() if expires_at else "none"


def send_reminders(now=None) -> dict[str, int]:
    """Run every sweep once, then retry undelivered reminders.

    Returns how many reminders of each kind were created and sent, and under ``"resent"`` how
    many earlier ones were claimed again and sent (attempted: a failure is retried later).
    """
    now = now or timezone.now()
    result = {kind: sweep(kind, now) for kind in SWEPT_KINDS}
    result["resent"] = resend_undelivered()
    return result


def sweep(kind: str, now) -> int:
    """Create and send one kind of reminder for every due SIM, a page at a time."""
    query, last_pk, created = due_sims(kind, now), 0, 0
    while True:
        page = list(query.filter(pk__gt=last_pk).values(*SIM_FIELDS)[:BATCH_SIZE])
        if not page:
            return created
        created += _process_page(kind, page)
        last_pk = page[-1]["pk"]


def _process_page(kind: str, page: list[dict]) -> int:
    contacts = _contacts({row["owner_id"] for row in page if row["owner_id"]})
    run_id = uuid.uuid4()
    rows, wordings = {}, {}
    for sim in page:
        contact = contacts.get(sim["owner_id"])
        if sim["owner_id"] and contact is None:
            continue  # an inactive account
        language = contact.language if contact else Language.ENGLISH
        title, body = render_texts(kind, sim, language, wordings)
        rows[sim["pk"]] = Notification(
            user_id=sim["owner_id"],
            partner_id=sim["partner_id"],
            sim_id=sim["pk"],
            kind=kind,
            period_key=period_key(sim["expires_at"]),
            period_end=sim["expires_at"],
            title=title,
            body=body,
            run_id=run_id,
            claimed_at=timezone.now(),
            claims=1,
        )
    Notification.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=500)
    unread.changed(row.user_id for row in rows.values())
    inserted = dict(
        Notification.objects.filter(run_id=run_id, sim_id__in=list(rows)).values_list(
            "sim_id", "pk"
        )
    )
    claimed = []
    for sim in page:
        if sim["pk"] in inserted:
            notification = rows[sim["pk"]]
            notification.pk = inserted[sim["pk"]]
            claimed.append((notification, sim, contacts.get(sim["owner_id"])))
    return _send_claimed(claimed, run_id)


def resend_undelivered() -> int:
    """Claim again and send reminders not recorded as delivered within the grace period.

    Rows claimed ``MAX_CLAIMS`` times are given up (logged, no longer pending). Returns how many
    reminders this run sent again.
    """
    cutoff = timezone.now() - timedelta(minutes=settings.REMINDER_RESEND_AFTER_MINUTES)
    expired = Notification.objects.filter(sent_at__isnull=True, claimed_at__lte=cutoff)
    _give_up(expired.filter(claims__gte=MAX_CLAIMS), cutoff)
    resent = 0
    while True:
        pks = list(
            expired.filter(claims__lt=MAX_CLAIMS)
            .order_by("claimed_at", "pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not pks:
            return resent
        run_id, claimed = claim_for_resend(pks, cutoff)
        resent += _resend(claimed, run_id)


def claim_for_resend(pks: list[int], cutoff) -> tuple[uuid.UUID, list[Notification]]:
    """Claim the rows among ``pks`` that are still unsent with a lease older than ``cutoff``.

    One conditional UPDATE: whichever of two overlapping sweeps runs it first moves
    ``claimed_at`` past ``cutoff``, so the other one's UPDATE no longer matches those rows.
    """
    run_id = uuid.uuid4()
    Notification.objects.filter(
        pk__in=pks, sent_at__isnull=True, claimed_at__lte=cutoff, claims__lt=MAX_CLAIMS
    ).update(run_id=run_id, claimed_at=timezone.now(), claims=F("claims") + 1)
    return run_id, list(Notification.objects.filter(run_id=run_id).order_by("pk"))


def _resend(claimed: list[Notification], run_id: uuid.UUID) -> int:
    sims = {
        sim["pk"]: sim
        for sim in Sim.objects.filter(pk__in={n.sim_id for n in claimed}).values(*SIM_FIELDS)
    }
    contacts = _contacts({n.user_id for n in claimed if n.user_id})
    due = []
    for notification in claimed:
        sim = sims.get(notification.sim_id)
        contact = contacts.get(notification.user_id)
        if (
            sim is None
            or period_key(sim["expires_at"]) != notification.period_key
            or (sim["owner_id"], sim["partner_id"])
            != (notification.user_id, notification.partner_id)
            or (notification.user_id and contact is None)
        ):
            # Renewed, moved to someone else, or the account was closed: not due any more.
            Notification.objects.filter(pk=notification.pk, run_id=run_id).update(claimed_at=None)
            logger.info("Reminder %s no longer applies; not sent again", notification.pk)
            continue
        due.append((notification, sim, contact))
    return _send_claimed(due, run_id)


def _give_up(rows, cutoff) -> None:
    """Stop retrying rows that used all their claims (one log line per row, by one sweep)."""
    for pk, kind, sim_id, claims, error in rows.values_list(
        "pk", "kind", "sim_id", "claims", "error"
    ):
        if Notification.objects.filter(pk=pk, sent_at__isnull=True, claimed_at__lte=cutoff).update(
            claimed_at=None
        ):
            logger.error(
                "Reminder %s (%s, SIM %s) not delivered after %s attempts; giving up: %s",
                pk,
                kind,
                sim_id,
                claims,
                error or "no outcome recorded",
            )


def _send_claimed(claimed: list[tuple[Notification, dict, Contact | None]], run_id) -> int:
    """Send rows this run claimed, ``SEND_CHUNK`` at a time, and record the outcomes.

    Before each chunk one conditional UPDATE re-checks the claims (and restarts their lease);
    rows whose claim was lost meanwhile are skipped. After the chunk the outcomes are written
    with one UPDATE per distinct outcome (also when a delivery raised), after the chunk's webhook
    deliveries (one INSERT). Returns how many rows were sent (attempted).
    """
    mailer = Mailer()
    sent = 0
    try:
        for start in range(0, len(claimed), SEND_CHUNK):
            chunk = claimed[start : start + SEND_CHUNK]
            ours = _renew_claims([notification.pk for notification, _, _ in chunk], run_id)
            outcomes = defaultdict(list)
            try:
                with batched_events():
                    for notification, sim, contact in chunk:
                        if notification.pk not in ours:
                            continue
                        retry = _deliver(notification, sim, contact, mailer)
                        key = (tuple(notification.channels), notification.error, retry)
                        outcomes[key].append(notification.pk)
                        sent += 1
            finally:
                _record(outcomes)
    finally:
        mailer.close()
    return sent


def _renew_claims(pks: list[int], run_id) -> set[int]:
    """Restart the lease of the rows among ``pks`` this run still holds; returns those."""
    held = Notification.objects.filter(pk__in=pks, run_id=run_id, sent_at__isnull=True)
    if not held.update(claimed_at=timezone.now()):
        return set()
    return set(held.values_list("pk", flat=True))


def _record(outcomes: dict[tuple, list[int]]) -> None:
    """Save (channels, error, retry) outcomes: one UPDATE per distinct outcome."""
    now = timezone.now()
    for (channels, error, retry), pks in outcomes.items():
        Notification.objects.filter(pk__in=pks).update(
            channels=list(channels), error=error, sent_at=None if retry else now
        )


def _contacts(user_ids: set[int]) -> dict[int, Contact]:
    """Active owners' addresses and preferences (defaults when they have no profile yet)."""
    values = User.objects.filter(pk__in=user_ids, is_active=True).values_list(
        "pk",
        "email",
        "phone",
        "profile__preferred_language",
        "profile__notify_by_email",
        "profile__notify_by_sms",
    )
    return {
        pk: Contact(
            email=email,
            phone=phone,
            language=language or Language.CHINESE,
            by_email=True if by_email is None else by_email,
            by_sms=bool(by_sms),
        )
        for pk, email, phone, language, by_email, by_sms in values
    }


def sim_label(sim: dict) -> str:
    return national_number(sim["msisdn"]) or f"…{sim['iccid'][-6:]}"


def render_texts(
    kind: str, sim: dict, language: str, wordings: dict | None = None
) -> tuple[str, str]:
    """The title and body of a reminder in ``language``.

    ``wordings`` (optional) keeps the translated texts per kind and language across calls.
    """
    key = (kind, language)
    wording = wordings.get(key) if wordings is not None else None
    if wording is None:
        with translation.override(language):
            wording = _wording(kind)
        if wordings is not None:
            wordings[key] = wording
    expires = sim["expires_at"]
    values = {
        "sim": sim_label(sim),
        "date": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M") if expires else "",
        "remaining": sim["data_remaining_mb"],
        "total": sim["data_total_mb"],
    }
    title, body = wording
    return title, body % values


def _wording(kind: str) -> tuple[str, str]:
    """The title and the body's format for ``kind`` in the active language."""
    if kind == Kind.EXPIRY_3D:
        return _("Your SIM expires in 3 days"), _(
            "Your SIM %(sim)s expires on %(date)s. Renew it before it runs out to keep "
            "your number and data."
        )
    if kind == Kind.EXPIRY_1D:
        return _("Your SIM expires tomorrow"), _(
            "Your SIM %(sim)s expires on %(date)s. Renew it today so it keeps working."
        )
    if kind == Kind.EXPIRED:
        return _("Your SIM has expired"), _(
            "Your SIM %(sim)s expired on %(date)s. Renew it to get back online."
        )
    if kind == Kind.DATA_80:
        return _("Your data is running low"), _(
            "Your SIM %(sim)s has %(remaining)s MB of %(total)s MB left. Renew or add "
            "data before it runs out."
        )
    return _("Your data is used up"), _(
        "Your SIM %(sim)s has no data left. Renew it to get back online."
    )


class Mailer:
    """What the reminders of one batch share: a mail connection, opened on the first email and
    reused; each language's email layout, rendered once with placeholders; the renewal URL."""

    TOKENS = {"title": "@@reminder-title@@", "body": "@@reminder-body@@", "url": "@@reminder-url@@"}
    TOKEN_RE = re.compile("|".join(re.escape(token) for token in TOKENS.values()))

    def __init__(self):
        self.connection = get_connection()
        self.opened = False
        self.layouts: dict[tuple[str, str], tuple[str, bool]] = {}
        self.url_parts = reverse("sims:renew", args=["ICCID"]).split("ICCID")

    def renew_url(self, iccid: str) -> str:
        if not iccid.isalnum() or len(self.url_parts) != 2:
            return settings.SITE_URL + reverse("sims:renew", args=[iccid])
        return settings.SITE_URL + iccid.join(self.url_parts)

    def render(self, name: str, context: dict, language: str) -> str:
        """``name`` rendered as ``render_to_string`` would, from the layout cached per language."""
        key = (name, language)
        if key not in self.layouts:
            template = get_template(name)
            placeholders = {
                "notification": {"title": self.TOKENS["title"], "body": self.TOKENS["body"]},
                "url": self.TOKENS["url"],
                "support_email": context["support_email"],
            }
            with translation.override(language):
                layout = template.render(placeholders)
            self.layouts[key] = (layout, template.template.engine.autoescape)
        layout, autoescape = self.layouts[key]
        notification = context["notification"]
        values = {
            self.TOKENS["title"]: notification.title,
            self.TOKENS["body"]: notification.body,
            self.TOKENS["url"]: context["url"],
        }
        if autoescape:
            values = {token: escape(value) for token, value in values.items()}
        return self.TOKEN_RE.sub(lambda match: values[match.group()], layout)

    def send(self, message: EmailMultiAlternatives) -> None:
        """Send on the shared connection; after an error the next email opens a new one."""
        try:
            if not self.opened:
                self.connection.open()
                self.opened = True
            message.connection = self.connection
            message.send()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.opened:
            self.opened = False
            self.connection.close()


def _deliver(
    notification: Notification, sim: dict, contact: Contact | None, mailer: Mailer
) -> bool:
    """Send a claimed reminder on the channels that apply and it has not reached yet.

    Records the channels and any error on ``notification``; returns True when a failure may pass
    (any email error, a transient SMS error), i.e. the row should stay undelivered for a retry.
    """
    errors, retry = [], False
    done = set(notification.channels)
    if sim["partner_id"]:
        event_type = PARTNER_EVENTS.get(notification.kind)
        if event_type and Notification.Channel.WEBHOOK not in done:
            emit_sim_event(
                sim=Sim(**{k: v for k, v in sim.items() if k != "msisdn"}), event_type=event_type
            )
            notification.channels.append(Notification.Channel.WEBHOOK)
        notification.error = ""
        return False
    url = mailer.renew_url(sim["iccid"])
    if contact.by_email and contact.email and Notification.Channel.EMAIL not in done:
        try:
            _email(notification, contact, url, mailer)
            notification.channels.append(Notification.Channel.EMAIL)
        except SoftTimeLimitExceeded:  # the task's time is up: the row is claimed again later
            raise
        except Exception as exc:  # one failed email must not stop the SMS or the sweep
            logger.warning("Reminder email %s failed: %s", notification.pk, exc)
            errors.append(f"email: {exc}")
            retry = True
    if contact.by_sms and contact.phone and Notification.Channel.SMS not in done:
        try:
            sms.get_sender().send(contact.phone, f"{notification.body} {url}")
            notification.channels.append(Notification.Channel.SMS)
        except sms.SmsError as exc:
            logger.warning("Reminder SMS %s failed: %s", notification.pk, exc.message)
            errors.append(f"sms: {exc.message}")
            retry = retry or exc.transient
    notification.error = "\n".join(errors)
    return retry


def _email(notification: Notification, contact: Contact, url: str, mailer: Mailer) -> None:
    context = {"notification": notification, "url": url, "support_email": settings.SUPPORT_EMAIL}
    text = mailer.render("orders/email/reminder.txt", context, contact.language)
    html = mailer.render("orders/email/reminder.html", context, contact.language)
    message = EmailMultiAlternatives(
        subject=notification.title,
        body=text,
        from_email=sender(contact.language),
        to=[contact.email],
    )
    message.attach_alternative(html, "text/html")
    mailer.send(message)
