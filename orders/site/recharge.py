"""Recharge a physical SIM (充值): number → operator (detected, correctable) → amount → confirm.

Wrong-number top-ups are the classic loss, so the number is shown again in large type and the
customer must tick that it is correct. The choice travels to the confirmation signed.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.currency import SESSION_KEY, current_currency
from core.money import Currency
from core.phone import national_number
from orders.services.errors import OrderError
from orders.services.placing import place_recharge
from orders.site.forms.recharge import ConfirmForm, RechargeChoice, RechargeForm
from orders.site.sims import payment_url


def _currency(request) -> str:
    """The currency: a currency button of the form, else ``current_currency``."""
    posted = request.POST.get("currency", "").upper()
    if posted in Currency.values:
        request.session[SESSION_KEY] = posted
    return current_currency(request)


def _edit_data(request) -> dict | None:
    """Step 1 filled in again from a signed choice (the "change the number" button)."""
    try:
        choice = RechargeChoice.from_token(request.POST.get("token", ""), request.user)
    except ValidationError:
        return None
    return {
        "phone": national_number(choice.msisdn),
        "operator": choice.operator.pk,
        "plan": choice.plan.pk,
        "detected_for": choice.msisdn,
    }


def _confirm_page(request, form: ConfirmForm, choice: RechargeChoice | None):
    context = {
        "form": form,
        "choice": choice,
        "number": national_number(choice.msisdn) if choice else "",
    }
    return render(request, "orders/site/recharge_confirm.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def start(request):
    """Step 1. Every submit re-renders it until "continue" with a complete choice."""
    currency = _currency(request)
    action = request.POST.get("action", "")
    data = None
    if request.method == "POST":
        data = _edit_data(request) if action == "edit" else request.POST
    elif request.GET.get("phone"):
        data = {"phone": request.GET["phone"]}
    form = RechargeForm(data, currency=currency)
    if form.is_bound and form.is_valid() and action == "continue":
        choice = form.choice()
        if choice is not None:
            confirm_form = ConfirmForm(
                user=request.user, initial={"token": choice.sign(request.user)}
            )
            return _confirm_page(request, confirm_form, choice)
    context = {
        "form": form,
        "amounts": form.amounts() if form.is_bound else [],
        "currency": currency,
        "currencies": Currency.values,
        "editing": action == "edit",
    }
    return render(request, "orders/site/recharge_start.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def confirm(request):
    """Step 2: the number again, a tick that it is right; places the order and goes to pay."""
    if request.method == "GET":
        return redirect("recharge:start")
    form = ConfirmForm(request.POST, user=request.user)
    if form.is_valid():
        choice = form.cleaned_data["token"]
        try:
            order = place_recharge(
                plan=choice.plan,
                customer=request.user,
                currency=choice.currency,
                msisdn=choice.msisdn,
                operator=choice.operator,
                actor=request.user,
            )
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(payment_url(order))
    return _confirm_page(request, form, form.cleaned_data.get("token"))
