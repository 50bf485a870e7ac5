"""Payment webhooks and the test gateway's checkout page."""

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core import signing
from core.signing import SignatureError
from orders.models import Gateway, Payment
from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
from orders.services.payment_events import receive_webhook

WEBHOOK_SOURCES = {Gateway.STRIPE, Gateway.TEST}

TEST_ACTIONS = {
    "pay": ("checkout.session.completed", {"payment_status": "paid"}),
    "later": ("checkout.session.completed", {"payment_status": "unpaid"}),
    "fail": ("payment_intent.payment_failed", {}),
    "async_succeeded": ("checkout.session.async_payment_succeeded", {"payment_status": "paid"}),
    "async_failed": ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}),
}


@csrf_exempt
@require_POST
def payment_webhook(request, source: str):
    """Receive a gateway's event: verified on the raw body, recorded once, processed later."""
    if source not in WEBHOOK_SOURCES or (
        source == Gateway.TEST and settings.PAYMENT_GATEWAY != Gateway.TEST
    ):
        raise Http404
    try:
        receive_webhook(source=source, body=request.body, headers=request.headers)
    except SignatureError as exc:
        return HttpResponseBadRequest(f"Invalid webhook: {exc}")
    return HttpResponse(status=200)


@require_http_methods(["GET", "POST"])
def test_checkout(request, reference: str):
    """The test gateway's checkout: the buttons send signed events through the webhook path."""
    if settings.PAYMENT_GATEWAY != Gateway.TEST:
        raise Http404
    payment = (
        Payment.objects.select_related("order__plan")
        .filter(gateway=Gateway.TEST, external_reference=reference)
        .first()
    )
    if payment is None:
        raise Http404
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = reverse("home")
    if request.method == "POST":
        if payment.status == Payment.Status.CANCELLED:  # expired: superseded by a new attempt
            return HttpResponse(_("This checkout has expired."), status=409)
        action = TEST_ACTIONS.get(request.POST.get("action", ""))
        if action is None:
            return HttpResponseBadRequest("Unknown action.")
        event_type, fields = action
        body = build_event(event_type, payment, **fields)
        headers = {SIGNATURE_HEADER: signing.sign(body, signing_secret())}
        receive_webhook(source=Gateway.TEST, body=body, headers=headers)
        if request.POST["action"] == "later":
            return redirect(request.get_full_path())
        return redirect(next_url)
    return render(request, "orders/test_checkout.html", {"payment": payment})
