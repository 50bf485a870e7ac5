"""JazzCash and Easypaisa on the site: the hand-off to their checkout, the customer's return and
the IPN. Every callback is verified on every field, recorded once and only then acted on (by a
task that asks the wallet for the payment's status)."""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.signing import MalformedEvent, SignatureError
from orders.models import Payment
from orders.payments import get_gateway
from orders.payments.local_wallet import REFERENCE_KEY, CheckoutForm
from orders.services.payment_events import receive_webhook, record_event
from orders.site.checkout import RETURNED_MARK


def _wallet(key: str):
    if key not in settings.LOCAL_WALLETS:
        raise Http404
    return get_gateway(key)


def _post_to(request, form: CheckoutForm):
    """A page that posts ``form`` to the wallet at once (a button without scripts)."""
    response = render(request, "orders/wallet_handoff.html", {"form": form})
    # The site's policy lets forms post to this origin too (portal/middleware.py).
    response.csp_form_actions = ("{0.scheme}://{0.netloc}".format(urlsplit(form.action)),)
    return response


@never_cache
@login_required
def wallet_checkout(request, wallet: str, reference: str):
    """Hand the customer over to the wallet's hosted checkout with the signed form."""
    gateway = _wallet(wallet)
    payment = get_object_or_404(
        Payment.objects.select_related("order"),
        gateway=wallet,
        external_reference=reference,
        order__customer=request.user,
    )
    if payment.status != Payment.Status.PENDING:
        return redirect("orders:detail", number=payment.order.number)
    return _post_to(request, gateway.checkout_form(payment))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wallet_return(request, wallet: str):
    """The customer's browser back from the wallet: record the signed result, show the order."""
    gateway = _wallet(wallet)
    fields = (request.POST if request.method == "POST" else request.GET).dict()
    step = gateway.return_step(fields)
    if step is not None:  # the wallet wants one more signed hop (Easypaisa's confirmation)
        return _post_to(request, step)
    try:
        verified = gateway.verify_callback(fields, kind="return")
    except (SignatureError, MalformedEvent) as exc:
        return render(request, "orders/wallet_return_invalid.html", {"reason": exc}, status=400)
    record_event(source=wallet, verified=verified, body=urlencode(fields).encode())
    payment = (
        Payment.objects.select_related("order")
        .filter(gateway=wallet, external_reference=verified.payload[REFERENCE_KEY])
        .first()
    )
    if payment is None:
        return redirect("orders:list")
    url = reverse("orders:detail", args=[payment.order.number])
    return redirect(f"{url}?{RETURNED_MARK}=1")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wallet_ipn(request, wallet: str):
    """The wallet's server-to-server notice: verified, recorded once, answered as it expects."""
    gateway = _wallet(wallet)
    body = request.body if request.method == "POST" else request.META["QUERY_STRING"].encode()
    try:
        event = receive_webhook(source=wallet, body=body, headers=request.headers)
    except SignatureError as exc:
        return HttpResponseBadRequest(f"Invalid notification: {exc}")
    content_type, answer = gateway.acknowledge(event)
    return HttpResponse(answer, content_type=content_type)
