"""The customer's SIMs (我的套餐): data and expiry at a glance, the install page, renewal."""

from datetime import datetime, timedelta

import segno
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.compiled import ScopedQuery
from core.currency import current_currency
from core.money import Currency, format_money
from help.links import NO_DATA, article_url
from help.platforms import platform_of
from orders.models import Order, Sim
from orders.services.errors import OrderError
from orders.services.notifications import install_links
from orders.services.placing import RENEWABLE_SIM_STATES, place_renewal
from orders.site.forms.sim import RenewForm, renewal_plans
from orders.site.sim_cards import (
    CLOSED_STATES,
    LIST_FIELDS,
    CardPage,
    card_html,
    countdown,
    data_amount,
    label,
)
from plans.models import Plan

SIMS_PER_PAGE = 50


def payment_url(order: Order) -> str:
    """Where a just-placed order is paid."""
    return reverse("orders:pay", args=[order.number])


def days_text(days: int) -> str:
    return _("1 day") if days == 1 else _("%(count)s days") % {"count": days}


def sim_label(sim: Sim) -> str:
    """The phone number, else the ICCID's last six digits."""
    return label(sim.msisdn, sim.iccid)


def _own_sims(request):
    return Sim.objects.filter(owner=request.user).select_related("operator", "current_plan")


def own_sim_rows(owner_id: int):
    """The owner's SIMs as My SIMs lists them: live ones first, newest first."""
    closed_last = Case(
        When(status__in=CLOSED_STATES, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        Sim.objects.filter(owner_id=owner_id)
        .order_by(closed_last, "-created_at", "-id")
        .values_list(*LIST_FIELDS)
    )


# The first page and one row more (is there a second page?), compiled once (core.compiled).
FIRST_PAGE = ScopedQuery(Sim, lambda owner_id: own_sim_rows(owner_id)[: SIMS_PER_PAGE + 1])


@login_required
@require_GET
def sim_list(request):
    """My SIMs, live ones first; replaced and cancelled ones last and muted."""
    page = sims_page(request.user.pk, request.GET.get("page"))
    shared = CardPage()
    cards = [card_html(row, shared) for row in page]
    return render(request, "orders/site/sim_list.html", {"page": page, "cards": cards})


def sims_page(owner_id: int, number: str | None) -> Page:
    """``Paginator.get_page(number)``; the first page counts the SIMs only when there are more."""
    if number not in (None, "1"):
        return Paginator(own_sim_rows(owner_id), SIMS_PER_PAGE).get_page(number)
    first = FIRST_PAGE.rows(owner_id)
    if len(first) <= SIMS_PER_PAGE:
        return Paginator(first, SIMS_PER_PAGE).page(1)
    return Page(first[:SIMS_PER_PAGE], 1, Paginator(own_sim_rows(owner_id), SIMS_PER_PAGE))


@never_cache
@login_required
@require_GET
def install(request, iccid: str):
    """QR code, activation code, one-tap links and instructions for one eSIM: the steps for the
    visitor's phone (from its User-Agent) first, and a link to help when there is no data."""
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
        "platform": platform_of(request.headers.get("User-Agent", "")),
        "no_data_url": article_url(NO_DATA, operator=sim.operator.code),
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
