"""My SIMs' cards: built from the page's rows (no model instances), each rendered once per process
for everything it shows (``card_key``)."""

from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.chinese import for_language, is_chinese
from core.phone import national_number
from orders.models import Sim
from orders.services.replacement import REPLACEABLE_STATES

EXPIRING_WITHIN = timedelta(days=3)
CLOSED_STATES = frozenset({Sim.Status.REPLACED, Sim.Status.CANCELLED})
LINK_KEYS = ("install_url", "renew_url", "recharge_url", "replace_url")
# What My SIMs reads of each SIM, its operator and its plan: a row of the page is these values.
LIST_FIELDS = (
    *("iccid", "msisdn", "form", "status", "data_total_mb", "data_remaining_mb", "expires_at"),
    *("usage_synced_at", "created_at", "operator__name", "current_plan__name"),
    *("current_plan__name_zh", "replaces__iccid"),
)
STATUS, EXPIRES_AT, SYNCED_AT = map(LIST_FIELDS.index, ("status", "expires_at", "usage_synced_at"))
URL_PATH_SAFE = "!$&'()*+,;=/~:@"  # what reverse() leaves unquoted in a path
MINUTE = timedelta(minutes=1)
# Rendered cards kept in this process, by everything they show (card_key); started over when full.
CARDS_KEPT = 4096
_cards: dict[tuple, str] = {}
_links: dict[tuple, "SimLinks"] = {}  # by URL prefix, URLconf and language: a handful


def data_amount(mb: int) -> str:
    """``512 MB``, ``1.5 GB``, ``10 GB``."""
    if mb < 1024:
        return f"{mb} MB"
    gb = (Decimal(mb) / 1024).quantize(Decimal("0.1")).normalize()
    return f"{gb:f} GB"


def countdown(expires_at: datetime | None, now: datetime) -> str:
    """``3 days left``, ``expires today``, ``expired 2 days ago`` (calendar days, local time)."""
    if expires_at is None:
        return _("No expiry")
    days = (timezone.localdate(expires_at) - timezone.localdate(now)).days
    if expires_at > now:
        if days <= 0:
            return _("expires today")
        return _("1 day left") if days == 1 else _("%(count)s days left") % {"count": days}
    if days >= 0:
        return _("expired today")
    if days == -1:
        return _("expired 1 day ago")
    return _("expired %(count)s days ago") % {"count": -days}


def label(msisdn: str, iccid: str) -> str:
    """The phone number, else the ICCID's last six digits."""
    if msisdn:
        return national_number(msisdn)
    return _("ICCID …%(tail)s") % {"tail": iccid[-6:]}


def title(sim: dict) -> str:
    """``Jazz · 0300 1234567``; a replaced SIM says so, its replacement shows its ICCID's tail."""
    plain = f"{sim['operator__name']} · {label(sim['msisdn'], sim['iccid'])}"
    if sim["status"] == Sim.Status.REPLACED:
        return _("%(title)s (replaced)") % {"title": plain}
    if sim["replaces__iccid"] is None:
        return plain
    if not sim["msisdn"]:  # the label is the ICCID's tail already
        return _("%(title)s (new card)") % {"title": plain}
    return _("%(title)s (new card …%(tail)s)") % {"title": plain, "tail": sim["iccid"][-6:]}


def state_class(status: str, expires_at: datetime | None, now: datetime) -> str:
    """The badge's CSS class: the SIM's closed status, expired, issued, expiring or active."""
    if status in CLOSED_STATES:
        return status
    if status == Sim.Status.EXPIRED or (expires_at and expires_at <= now):
        return "expired"
    if status == Sim.Status.ISSUED:
        return "issued"
    if expires_at and expires_at - now <= EXPIRING_WITHIN:
        return "expiring"
    return "active"


def state_label(state: str, physical: bool = False) -> str:
    """The badge's text for ``state_class``; a physical card not activated yet (a replacement
    on its way by post) has nothing to install."""
    if state == "expiring":
        return _("Expiring soon")
    if state == Sim.Status.ISSUED and physical:
        return _("Not activated yet")
    return str(Sim.Status(state).label)


def usage_synced(synced_at: datetime | None, now: datetime) -> str:
    """``Usage updated 2 hours ago`` (one unit, as ``timesince`` gives it)."""
    if synced_at is None:
        return _("Usage not synced yet")
    return _("Usage updated %(time)s ago") % {"time": timesince(synced_at, now, depth=1)}


def usage_age(synced_at: datetime | None, now: datetime) -> tuple | None:
    """What ``timesince(synced_at, now, depth=1)`` shows once ``synced_at`` is known: the whole
    months between them when there is one (it then shows months or years), else the whole
    minutes between them (weeks, days, hours or minutes)."""
    if synced_at is None:
        return None
    now = now.astimezone(synced_at.tzinfo)
    months = (now.year - synced_at.year) * 12 + now.month - synced_at.month
    if synced_at.day > now.day or (synced_at.day == now.day and synced_at.time() > now.time()):
        months -= 1
    return (months, 0) if months > 0 else (0, (now - synced_at) // MINUTE)


def expiry_days(expires_at: datetime | None, now: datetime, today) -> tuple | None:
    """What ``countdown`` depends on: whether it is still ahead and the local calendar days."""
    if expires_at is None:
        return None
    return expires_at > now, (timezone.localdate(expires_at) - today).days


class SimLinks:
    """Each SIM's links from one ``reverse()`` per URL name: the pattern with the ICCID in it."""

    NAMES = ("sims:install", "sims:renew", "sims:auto_renew", "sims:replace")
    PLACEHOLDER = "ICCID"

    def __init__(self):
        self.around = {
            name: reverse(name, args=[self.PLACEHOLDER]).rpartition(self.PLACEHOLDER)
            for name in self.NAMES
        }
        self.recharge = reverse("recharge:start")
        self.support = reverse("support:open")  # a URL name: orders imports nothing of support
        self.key = (*self.around.values(), self.recharge, self.support)

    @classmethod
    def current(cls) -> "SimLinks":
        """The links for this request's URL prefix, URLconf and language, built once each."""
        key = (get_script_prefix(), get_urlconf(), get_language())
        links = _links.get(key)
        if links is None:
            links = _links[key] = cls()
        return links

    def url(self, name: str, iccid: str) -> str:
        """``reverse(name, args=[iccid])``, quoted as ``reverse()`` quotes it."""
        before, _placeholder, after = self.around[name]
        return f"{before}{quote(iccid, safe=URL_PATH_SAFE)}{after}"


class CardPage:
    """What every card of one page shares: the clock, the links, the language and time zone."""

    def __init__(self):
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.links = SimLinks.current()
        self.language = get_language()
        self.place = (self.language, timezone.get_current_timezone_name(), *self.links.key)


def sim_card(row: tuple, page: CardPage) -> dict:
    """Everything one card shows, from its ``LIST_FIELDS`` values, as final strings."""
    sim = dict(zip(LIST_FIELDS, row, strict=True))
    status, form, iccid, msisdn = sim["status"], sim["form"], sim["iccid"], sim["msisdn"]
    state = state_class(status, sim["expires_at"], page.now)
    closed = status in CLOSED_STATES
    plan, plan_zh = sim["current_plan__name"], sim["current_plan__name_zh"]
    if plan_zh and is_chinese(page.language):
        plan = for_language(plan_zh, page.language)
    card = {
        "muted": " muted" if closed else "",
        "title": title(sim),
        "state": state,
        "state_label": state_label(state, physical=form == Sim.Form.PHYSICAL),
        "physical": form == Sim.Form.PHYSICAL,
        "plan": plan,
        "closed": closed,
    }
    if not closed:
        card.update(_data_shown(sim["data_total_mb"], sim["data_remaining_mb"]))
        card["countdown"] = countdown(sim["expires_at"], page.now)
        card["usage_synced"] = usage_synced(sim["usage_synced_at"], page.now)
        if sim["expires_at"]:
            local = timezone.localtime(sim["expires_at"])
            card.update(expires_iso=local.isoformat(), expires_text=f"{local:%Y-%m-%d %H:%M}")
    links = page.links
    if form == Sim.Form.ESIM and not closed:
        card["renew_url"] = links.url("sims:renew", iccid)
        card["auto_renew_url"] = links.url("sims:auto_renew", iccid)
        card["install_url"] = links.url("sims:install", iccid)
    if form == Sim.Form.PHYSICAL and msisdn and not closed:
        card["recharge_url"] = f"{links.recharge}?{urlencode({'phone': national_number(msisdn)})}"
    if status in REPLACEABLE_STATES:
        card["replace_url"] = links.url("sims:replace", iccid)
    card["links"] = any(key in card for key in LINK_KEYS)
    card["support_url"] = f"{links.support}?{urlencode({'sim': iccid})}"
    return card


def card_key(row: tuple, page: CardPage) -> tuple:
    """Everything a card is made of: its ``LIST_FIELDS`` values (the page reads no other column,
    a card cannot show one), the language, time zone and links, and what of the clock its texts
    show (the badge's class, the countdown's days, the usage's age). Equal keys, equal cards."""
    now, expires_at = page.now, row[EXPIRES_AT]
    clock = state_class(row[STATUS], expires_at, now)
    if row[STATUS] in CLOSED_STATES:
        return (*page.place, *row, clock)
    days = expiry_days(expires_at, now, page.today)
    return (*page.place, *row, clock, days, usage_age(row[SYNCED_AT], now))


def card_html(row: tuple, page: CardPage) -> str:
    """The card's HTML, rendered once per ``card_key`` in this process."""
    key = card_key(row, page)
    html = _cards.get(key)
    if html is None:
        html = get_template("orders/site/sim_card.html").render({"row": sim_card(row, page)})
        if len(_cards) >= CARDS_KEPT:
            _cards.clear()
        _cards[key] = html
    return html


def _data_shown(total: int | None, left: int | None) -> dict:
    """The data line: unlimited, used/left of total with its meter, or the total alone."""
    if total is None:
        return {"unlimited": True}
    if left is None or total <= 0:
        text = _("%(total)s of data") % {"total": escape(data_amount(total))}
        return {"data_text": mark_safe(text)}  # the amount is escaped, the message is ours
    shown = {
        "used": data_amount(total - left),
        "left": data_amount(left),
        "total": data_amount(total),
    }
    text = _("%(used)s used · %(left)s left of %(total)s") % {
        name: escape(amount) for name, amount in shown.items()
    }
    meter = {"max": total, "value": left, "low": total // 5, "high": total // 2}
    return {
        "data_text": mark_safe(text),  # the amounts are escaped, the message is ours
        "meter": {name: str(number) for name, number in meter.items()},
        "data_left": shown["left"],
    }
