"""The customer's checkout and orders: buy a plan, pay, follow the order, receipts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.phone import national_number
from help.links import PAYMENT_FAILED, article_url
from orders.models import Gateway, Order, Payment, Refund
from orders.services.errors import OrderError
from orders.services.lifecycle import PAYABLE_STATES
from orders.services.notifications import send_order_ready_email
from orders.services.payments import is_direct_wallet, methods_for, start_payment
from orders.services.placing import place_purchase
from orders.site.forms.checkout import PaymentForm, method_label
from plans.models import Plan, PlanKind
from plans.site.forms import BuyForm
from plans.site.views import data_label, plan_prices, render_plan_page

ORDERS_PER_PAGE = 20
LIVE_STATES = {
    Order.Status.CREATED,
    Order.Status.AWAITING_PAYMENT,
    Order.Status.PAID,
    Order.Status.PROVISIONING,
}
PROGRESS_STEPS = {Order.Status.PAID: 1, Order.Status.PROVISIONING: 2, Order.Status.FULFILLED: 3}
PAID_STATES = {Payment.Status.SUCCEEDED, Payment.Status.REFUNDED}
# The gateway sends the customer back to the order page with this mark once they have paid.
RETURNED_MARK = "returned"


def install_url(iccid: str) -> str:
    """The install page of an issued eSIM, or "" while that page does not exist."""
    try:
        return reverse("sims:install", args=[iccid])
    except NoReverseMatch:
        return ""


def owned_order(request, number: str) -> Order:
    """The signed-in customer's order; anyone else's is a 404."""
    queryset = Order.objects.select_related(
        "plan__operator", "sim__operator", "recharge_operator", "promotion"
    ).filter(customer=request.user)
    return get_object_or_404(queryset, number=number)


def summary_context(order: Order) -> dict:
    """What every page about one order shows."""
    order.plan.data_label = data_label(order.plan)
    return {"order": order, "recharge_number": national_number(order.recharge_msisdn)}


def status_context(order: Order, returned: bool = False) -> dict:
    """The live status block: plain-language state, progress, install links, next steps.

    ``returned`` is true once the customer is back from the gateway: an order still awaiting
    payment then shows that its payment is being confirmed, not an offer to pay again.
    """
    context = {
        "order": order,
        "live": order.status in LIVE_STATES,
        "step": PROGRESS_STEPS.get(order.status, 0),
        "pay_again": order.status in PAYABLE_STATES,
        "badge": order.get_status_display(),
        "returned": returned,
    }
    if order.status == Order.Status.AWAITING_PAYMENT:
        payment = order.payments.filter(status=Payment.Status.PENDING).order_by("-pk").first()
        manual = payment if payment and payment.gateway == Gateway.MANUAL else None
        context["manual_payment"] = manual
        if payment is not None and payment.payer_account:
            context["phone_approval"] = {
                "wallet": payment.get_gateway_display(),
                "number": national_number(payment.payer_account),
                "expires_at": payment.expires_at,
            }
            context["pay_again"] = False
            context["badge"] = _("Approve on your phone")
            return context
        context["confirming"] = returned and payment is not None and manual is None
        if context["confirming"]:
            context["pay_again"] = False
            context["badge"] = _("Confirming payment")
    if order.status == Order.Status.PAID:
        # Paid orders are handed to provisioning at once: to the customer they are being set up.
        context["badge"] = Order.Status.PROVISIONING.label
    if order.status == Order.Status.PAYMENT_FAILED:
        # A payment cancelled (not failed) here is one whose checkout page expired unpaid.
        latest = order.payments.order_by("-pk").first()
        context["checkout_expired"] = (
            latest is not None and latest.status == Payment.Status.CANCELLED
        )
        context["payment_help_url"] = article_url(PAYMENT_FAILED)
    if order.status == Order.Status.FULFILLED:
        context["sims"] = [
            {"sim": sim, "install_url": install_url(sim.iccid)}
            for sim in order.issued_sims.order_by("pk")
        ]
        context["recharge_number"] = national_number(order.recharge_msisdn)
    return context


@require_POST
def buy(request, plan_id: int):
    """Place a purchase of a plan, then go to payment; errors re-render the plan page."""
    plan = get_object_or_404(
        Plan.objects.select_related("operator")
        .filter(kind=PlanKind.ESIM, is_active=True)
        .supplied(),
        pk=plan_id,
    )
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("plans:detail", args=[plan.pk]))
    prices = plan_prices(plan)
    form = BuyForm(request.POST, prices=prices)
    if form.is_valid():
        try:
            order = place_purchase(
                plan=plan,
                customer=request.user,
                currency=form.cleaned_data["currency"],
                promotion_code=form.cleaned_data["promotion_code"],
            )
        except OrderError as exc:
            field = "promotion_code" if exc.code.startswith("promotion") else None
            form.add_error(field, exc.message)
        else:
            return redirect("orders:pay", number=order.number)
    return render_plan_page(request, plan, form, prices)


@login_required
@require_http_methods(["GET", "POST"])
def pay(request, number: str):
    """Choose how to pay any kind of order; start the payment and follow the gateway."""
    order = owned_order(request, number)
    order_url = reverse("orders:detail", args=[order.number])
    if order.status not in PAYABLE_STATES:
        messages.info(request, _("This order is already paid or closed."))
        return redirect(order_url)
    methods = methods_for(order.currency)
    form = PaymentForm(request.POST or None, methods=methods)
    if request.method == "POST" and form.is_valid():
        gateway = form.cleaned_data["gateway"]
        try:
            _payment, started = start_payment(
                order=order,
                gateway_key=gateway,
                method=form.cleaned_data["method_key"],
                success_url=request.build_absolute_uri(f"{order_url}?{RETURNED_MARK}=1"),
                cancel_url=request.build_absolute_uri(request.path),
                customer_reference=(
                    form.cleaned_data["reference"] if gateway == Gateway.MANUAL else ""
                ),
                payer_account=form.cleaned_data["wallet_number"],
            )
        except OrderError as exc:
            field = "wallet_number" if exc.code == "wallet_number_invalid" else None
            form.add_error(field, exc.message)
        else:
            return redirect(started.redirect_url or order_url)
    manual = [method for gateway, method in methods if gateway == Gateway.MANUAL]
    accounts = settings.MANUAL_PAYMENT_ACCOUNTS
    context = summary_context(order) | {
        "form": form,
        "options": form.method_options(),
        "manual_methods": manual,
        "manual_names": ", ".join(method_label(Gateway.MANUAL, method) for method in manual),
        "direct_wallets": ", ".join(
            method_label(gateway, gateway)
            for gateway, method in methods
            if is_direct_wallet(gateway, method)
        ),
        "manual_accounts": [
            (method_label(Gateway.MANUAL, method), accounts[method])
            for method in manual
            if accounts.get(method)
        ],
    }
    return render(request, "orders/site/checkout_pay.html", context)


@login_required
def order_list(request):
    """The customer's orders, newest first."""
    orders = Order.objects.filter(customer=request.user).select_related("plan__operator")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/site/order_list.html", {"page": page})


@login_required
def order_detail(request, number: str):
    """The order page: summary and a status block that updates itself."""
    order = owned_order(request, number)
    context = summary_context(order) | status_context(order, RETURNED_MARK in request.GET)
    return render(request, "orders/site/order_detail.html", context)


@never_cache
@login_required
def order_status(request, number: str):
    """The status block alone, for the order page to poll."""
    order = owned_order(request, number)
    context = status_context(order, RETURNED_MARK in request.GET)
    return render(request, "orders/site/order_status.html", context)


@login_required
def order_receipt(request, number: str):
    """A printable receipt for a paid order: items, amounts, payment, refunds."""
    order = owned_order(request, number)
    if order.paid_at is None:
        messages.info(request, _("The receipt is ready once the order is paid."))
        return redirect("orders:detail", number=order.number)
    payments = list(
        order.payments.filter(status__in=PAID_STATES).prefetch_related("refunds").order_by("pk")
    )
    refunds = []
    for payment in payments:
        payment.label = method_label(payment.gateway, payment.method)
        refunds += [r for r in payment.refunds.all() if r.status != Refund.Status.FAILED]
    context = summary_context(order) | {"payments": payments, "refunds": refunds}
    return render(request, "orders/site/order_receipt.html", context)


RESEND_COOLDOWN_SECONDS = 300


@login_required
@require_POST
def resend(request, number: str):
    """Email the ready order's details again."""
    order = owned_order(request, number)
    if order.status != Order.Status.FULFILLED:
        messages.error(request, _("The email is sent once the order is ready."))
    elif not cache.add(f"resend-ready:{order.pk}", 1, timeout=RESEND_COOLDOWN_SECONDS):
        messages.info(
            request,
            _(
                "We sent it a moment ago: please check your inbox and spam folder, or ask again "
                "in a few minutes."
            ),
        )
    elif send_order_ready_email(order.pk, force=True):
        messages.success(
            request, _("We sent the email again to %(email)s.") % {"email": request.user.email}
        )
    else:
        messages.error(request, _("The email could not be sent. Please write to support."))
    return redirect("orders:detail", number=order.number)
