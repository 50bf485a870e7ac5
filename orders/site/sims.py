"""The customer's SIMs (我的套餐): data and expiry at a glance, the install page, renewal."""

from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote, urlencode

import segno
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.currency import current_currency
from core.money import Currency, format_money
from orders.models import Order, Sim
from orders.services.errors import OrderError
from orders.services.notifications import install_links
from orders.services.placing import RENEWABLE_SIM_STATES, place_renewal
from orders.services.replacement import REPLACEABLE_STATES
from orders.site.forms.recharge import local_number
from orders.site.forms.sim import RenewForm, renewal_plans
from plans.models import Plan

SIMS_PER_PAGE = 50
EXPIRING_WITHIN = timedelta(days=3)
CLOSED_STATES = [Sim.Status.REPLACED, Sim.Status.CANCELLED]
LINK_KEYS = ("install_url", "renew_url", "recharge_url", "replace_url")
# What My SIMs reads of each SIM, its operator and its plan.
LIST_FIELDS = (
    *("iccid", "msisdn", "form", "status", "data_total_mb", "data_remaining_mb", "expires_at"),
    *("usage_synced_at", "created_at", "operator__name", "current_plan__name"),
    "current_plan__name_zh",
)
URL_PATH_SAFE = "!$&'()*+,;=/~:@"  # what reverse() leaves unquoted in a path
# Rendered cards kept in this process, by everything they show (card_key); started over when full.
CARDS_KEPT = 4096
_cards: dict[tuple, str] = {}


def payment_url(order: Order) -> str:
    """Where a just-placed order is paid."""
    return reverse("orders:pay", args=[order.number])


def data_amount(mb: int) -> str:
    """``512 MB``, ``1.5 GB``, ``10 GB``."""
    if mb < 1024:
        return f"{mb} MB"
    gb = (Decimal(mb) / 1024).quantize(Decimal("0.1")).normalize()
    return f"{gb:f} GB"


def days_text(days: int) -> str:
    return _("1 day") if days == 1 else _("%(count)s days") % {"count": days}


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


def sim_state(sim: Sim, now: datetime) -> tuple[str, str]:
    """The badge: (CSS class, label)."""
    if sim.status in CLOSED_STATES:
        return sim.status, sim.get_status_display()
    if sim.status == Sim.Status.EXPIRED or (sim.expires_at and sim.expires_at <= now):
        return "expired", str(Sim.Status.EXPIRED.label)
    if sim.status == Sim.Status.ISSUED:
        return "issued", str(Sim.Status.ISSUED.label)
    if sim.expires_at and sim.expires_at - now <= EXPIRING_WITHIN:
        return "expiring", _("Expiring soon")
    return "active", str(Sim.Status.ACTIVE.label)


def sim_label(sim: Sim) -> str:
    """The phone number, else the ICCID's last six digits."""
    if sim.msisdn:
        return local_number(sim.msisdn)
    return _("ICCID …%(tail)s") % {"tail": sim.iccid[-6:]}


def usage_synced(sim: Sim, now: datetime) -> str:
    if sim.usage_synced_at is None:
        return _("Usage not synced yet")
    return _("Usage updated %(time)s ago") % {"time": timesince(sim.usage_synced_at, now, depth=1)}


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
        self.key = (*self.around.values(), self.recharge)

    def url(self, name: str, iccid: str) -> str:
        """``reverse(name, args=[iccid])``, quoted as ``reverse()`` quotes it."""
        before, _placeholder, after = self.around[name]
        return f"{before}{quote(iccid, safe=URL_PATH_SAFE)}{after}"


def sim_card(sim: Sim, now: datetime, links: SimLinks) -> dict:
    """Everything one card on My SIMs shows, as final strings (the template only places them)."""
    state, state_label = sim_state(sim, now)
    closed = sim.status in CLOSED_STATES
    plan = sim.current_plan
    card = {
        "muted": " muted" if closed else "",
        "title": f"{sim.operator.name} · {sim_label(sim)}",
        "state": state,
        "state_label": state_label,
        "physical": sim.form == Sim.Form.PHYSICAL,
        "plan": None if plan is None else plan.display_name,
        "closed": closed,
    }
    if not closed:
        card.update(_data_shown(sim))
        card["countdown"] = countdown(sim.expires_at, now)
        card["usage_synced"] = usage_synced(sim, now)
        if sim.expires_at:
            local = timezone.localtime(sim.expires_at)
            card.update(expires_iso=local.isoformat(), expires_text=f"{local:%Y-%m-%d %H:%M}")
    iccid = sim.iccid
    if sim.form == Sim.Form.ESIM and not closed:
        card["renew_url"] = links.url("sims:renew", iccid)
        card["auto_renew_url"] = links.url("sims:auto_renew", iccid)
        card["install_url"] = links.url("sims:install", iccid)
    if sim.form == Sim.Form.PHYSICAL and sim.msisdn and not closed:
        card["recharge_url"] = f"{links.recharge}?{urlencode({'phone': local_number(sim.msisdn)})}"
    if sim.status in REPLACEABLE_STATES:
        card["replace_url"] = links.url("sims:replace", iccid)
    card["links"] = any(key in card for key in LINK_KEYS)
    return card


def card_key(sim: Sim, now: datetime, links: SimLinks) -> tuple:
    """Everything a card is made of: the SIM's ``LIST_FIELDS`` (the page reads no other column,
    a card cannot show one), the language, time zone and links, and the texts that move with
    the clock (the badge, the countdown, the usage's age). Equal keys, equal cards."""
    row = []
    for field in LIST_FIELDS:
        value = sim
        for name in field.split("__"):
            value = None if value is None else getattr(value, name)
        row.append(value)
    clock = (sim_state(sim, now)[0],)
    if sim.status not in CLOSED_STATES:
        clock += (countdown(sim.expires_at, now), usage_synced(sim, now))
    place = (get_language(), timezone.get_current_timezone_name(), *links.key)
    return (*place, *row, *clock)


def card_html(sim: Sim, now: datetime, links: SimLinks) -> str:
    """The card's HTML, rendered once per ``card_key`` in this process."""
    key = card_key(sim, now, links)
    html = _cards.get(key)
    if html is None:
        html = get_template("orders/site/sim_card.html").render({"row": sim_card(sim, now, links)})
        if len(_cards) >= CARDS_KEPT:
            _cards.clear()
        _cards[key] = html
    return html


def _data_shown(sim: Sim) -> dict:
    """The data line: unlimited, used/left of total with its meter, or the total alone."""
    total, left = sim.data_total_mb, sim.data_remaining_mb
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


def _own_sims(request):
    return Sim.objects.filter(owner=request.user).select_related("operator", "current_plan")


@login_required
@require_GET
def sim_list(request):
    """My SIMs, live ones first; replaced and cancelled ones last and muted."""
    sims = (
        _own_sims(request)
        .only(*LIST_FIELDS)
        .annotate(
            is_closed=Case(
                When(status__in=CLOSED_STATES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    )
    page = sims_page(sims.order_by("is_closed", "-created_at", "-id"), request.GET.get("page"))
    now, links = timezone.now(), SimLinks()
    cards = [card_html(sim, now, links) for sim in page]
    return render(request, "orders/site/sim_list.html", {"page": page, "cards": cards})


def sims_page(sims, number: str | None) -> Page:
    """``Paginator.get_page(number)``; the first page counts the SIMs only when there are more."""
    paginator = Paginator(sims, SIMS_PER_PAGE)
    if number not in (None, "1"):
        return paginator.get_page(number)
    first = list(sims[: SIMS_PER_PAGE + 1])
    if len(first) <= SIMS_PER_PAGE:
        paginator.count = len(first)
    return Page(first[:SIMS_PER_PAGE], 1, paginator)


@never_cache
@login_required
@require_GET
def install(request, iccid: str):
    """QR code, activation code, one-tap links and instructions for one eSIM."""
    sim = get_object_or_404(
        _own_sims(request).exclude(status__in=CLOSED_STATES).exclude(activation_code=""),
        iccid=iccid,
        form=Sim.Form.ESIM,
    )
    qr = segno.make(sim.activation_code, error="m")
    title = _("QR code to install this eSIM")
    # segno's SVG is generated markup (the title is escaped by segno), safe to inline.
    context = {
        "sim": sim,
        "label": sim_label(sim),
        "qr_svg": mark_safe(qr.svg_inline(scale=4, title=title)),
        "links": install_links(sim.activation_code),
        "countdown": countdown(sim.expires_at, timezone.now()),
    }
    return render(request, "orders/site/sim_install.html", context)


def renewal_offer(plan: Plan, currency: str, start: datetime) -> dict:
    if plan.data_unlimited:
        data = _("Unlimited data")
    elif plan.data_mb:
        data = _("+%(amount)s data") % {"amount": data_amount(plan.data_mb)}
    else:
        data = ""
    return {
        "plan": plan,
        "price": format_money(plan.price_amount, currency),
        "validity": days_text(plan.validity_days),
        "data": data,
        "expires_at": start + timedelta(days=plan.validity_days),
    }


@login_required
@require_http_methods(["GET", "POST"])
def renew(request, iccid: str):
    """Renewal plans that fit the SIM, with the expiry each would give; POST places the order."""
    sim = get_object_or_404(
        _own_sims(request),
        iccid=iccid,
        form=Sim.Form.ESIM,
        status__in=RENEWABLE_SIM_STATES,
    )
    currency = current_currency(request)
    form = RenewForm(
        request.POST or None, sim=sim, currency=currency, initial={"currency": currency}
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = place_renewal(
                plan=form.cleaned_data["plan"],
                customer=request.user,
                currency=form.cleaned_data["currency"],
                sim=sim,
                actor=request.user,
            )
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(payment_url(order))
    now = timezone.now()
    expired = sim.expires_at is None or sim.expires_at <= now
    start = now if expired else sim.expires_at
    context = {
        "sim": sim,
        "label": sim_label(sim),
        "form": form,
        "currency": currency,
        "currencies": Currency.values,
        "expired": expired,
        "countdown": countdown(sim.expires_at, now),
        "offers": [renewal_offer(plan, currency, start) for plan in renewal_plans(sim, currency)],
    }
    return render(request, "orders/site/sim_renew.html", context)
