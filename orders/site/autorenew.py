"""Auto-renew on the customer site: switch it on (plan + saved card) or off, save a card.

Also the test gateway's card-setup page, whose buttons send signed Stripe-shaped events through
the webhook path like its checkout page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.currency import current_currency
from core.money import Currency
from orders.models import AutoRenewal, Gateway, SavedPaymentMethod, Sim
from orders.services.autorenew.cards import (
    TEST_CARDS,
    disable_auto_renew,
    enable_auto_renew,
    sandbox_setup_event,
    start_card_setup,
    usable_methods,
)
from orders.services.errors import OrderError
from orders.services.payment_events import receive_webhook
from orders.services.placing import RENEWABLE_SIM_STATES
from orders.site.forms.autorenew import AutoRenewForm
from orders.site.forms.sim import renewal_plans
from orders.site.sims import renewal_offer, sim_label


def _own_renewable_sim(request, iccid: str) -> Sim:
    return get_object_or_404(
        Sim.objects.select_related("operator"),
        owner=request.user,
        iccid=iccid,
        form=Sim.Form.ESIM,
        status__in=RENEWABLE_SIM_STATES,
    )


@login_required
@require_http_methods(["GET", "POST"])
def auto_renew(request, iccid: str):
    """The SIM's auto-renew: on with a plan and a card, or off."""
    sim = _own_renewable_sim(request, iccid)
    current = AutoRenewal.objects.filter(sim=sim).select_related("plan", "payment_method").first()
    currency = current_currency(request)
    if current and current.enabled and "currency" not in request.GET:
        currency = current.currency
    initial = {"currency": currency}
    if current:
        initial.update(plan=current.plan_id, payment_method=current.payment_method_id)
    action = request.POST.get("action", "enable")
    form = AutoRenewForm(
        request.POST if action == "enable" else None, sim=sim, currency=currency, initial=initial
    )
    if request.method == "POST":
        if action == "disable":
            disable_auto_renew(sim=sim)
            messages.success(request, _("Auto-renew is off for this SIM."))
            return redirect("sims:auto_renew", iccid=sim.iccid)
        if form.is_valid():
            try:
                enable_auto_renew(
                    sim=sim,
                    plan=form.cleaned_data["plan"],
                    payment_method=form.cleaned_data["payment_method"],
                    currency=form.cleaned_data["currency"],
                )
            except OrderError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Auto-renew is on for this SIM."))
                return redirect("sims:auto_renew", iccid=sim.iccid)
    currency = form.data.get("currency", currency) if form.is_bound else currency
    now = timezone.now()
    start = max(sim.expires_at, now) if sim.expires_at else now
    context = {
        "sim": sim,
        "label": sim_label(sim),
        "form": form,
        "current": current,
        "currency": currency if currency in Currency.values else Currency.PKR,
        "currencies": Currency.values,
        "cards": list(usable_methods(request.user)),
        "offers": [renewal_offer(plan, currency, start) for plan in renewal_plans(sim, currency)],
        "lead_hours": settings.AUTO_RENEW_LEAD_HOURS,
    }
    return render(request, "orders/site/autorenew_form.html", context)


@login_required
@require_POST
def save_card(request, iccid: str):
    """Start saving a card (Stripe Checkout in setup mode, or the test setup page)."""
    sim = _own_renewable_sim(request, iccid)
    back = request.build_absolute_uri(reverse("sims:auto_renew", args=[sim.iccid]))
    try:
        _method, redirect_url = start_card_setup(
            customer=request.user, gateway=settings.PAYMENT_GATEWAY, return_url=back
        )
    except OrderError as exc:
        messages.error(request, exc.message)
        return redirect("sims:auto_renew", iccid=sim.iccid)
    return redirect(redirect_url)


@require_http_methods(["GET", "POST"])
def test_card_setup(request, token: str):
    """The test gateway's "save a card" page: save a good card, a declining one, or cancel."""
    if settings.PAYMENT_GATEWAY != Gateway.TEST:
        raise Http404
    method = get_object_or_404(
        SavedPaymentMethod, gateway=Gateway.TEST, setup_token=token, revoked_at__isnull=True
    )
    next_url = request.GET.get("next", "")
    cancel_url = request.GET.get("cancel", "") or next_url
    hosts = {request.get_host()}
    if not url_has_allowed_host_and_scheme(next_url, hosts):
        next_url = reverse("home")
    if not url_has_allowed_host_and_scheme(cancel_url, hosts):
        cancel_url = next_url
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "cancel":
            return redirect(cancel_url)
        if action not in TEST_CARDS:
            return HttpResponseBadRequest("Unknown action.")
        body, headers = sandbox_setup_event(method, action)
        receive_webhook(source=Gateway.TEST, body=body, headers=headers)
        return redirect(next_url)
    return render(request, "orders/site/autorenew_test_setup.html", {"method": method})
