"""Staff order operations in the admin: the partial refund form and the order timeline.

Views never change models themselves; they call the order services.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.money import show_money
from orders.models import Order, ProvisioningAttempt, Refund, WebhookEvent
from orders.services.errors import OrderError
from orders.services.notifications import READY_EMAIL_ACTION
from orders.services.refunds import refund_order
from plans.models import ProviderCall

REFUND_PERMISSION = "orders.change_payment"


class PartialRefundForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


def refund_view(model_admin, request, object_id):
    """Refund part (or all) of an order's payment through its gateway."""
    if not request.user.has_perm(REFUND_PERMISSION):
        raise PermissionDenied
    order = model_admin.get_object(request, object_id)
    if order is None:
        raise Http404
    change_url = reverse("admin:orders_order_change", args=[order.pk])
    form = PartialRefundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refund = refund_order(
                order=order,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except OrderError as exc:
            form.add_error("amount" if exc.code == "amount_invalid" else None, exc.message)
        else:
            values = {"currency": refund.currency, "amount": refund.amount, "number": order.number}
            if refund.status == Refund.Status.PENDING:
                messages.warning(
                    request,
                    _(
                        "Refund of %(currency)s %(amount)s of order %(number)s is pending at "
                        "the payment gateway; the order is updated once the money is returned."
                    )
                    % values,
                )
            else:
                messages.success(
                    request, _("Refunded %(currency)s %(amount)s of order %(number)s.") % values
                )
            return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Refund order %(number)s") % {"number": order.number},
        "original": order,
        "form": form,
        "change_url": change_url,
    }
    return TemplateResponse(request, "admin/orders/order/refund.html", context)


MAX_UPSTREAM_CALLS = 200


def order_timeline(order: Order) -> list[dict]:
    """Everything that happened to ``order``, oldest first, in a fixed number of queries."""
    events = []
    for entry in order.audit_entries().select_related("actor"):
        actor = entry.actor.email if entry.actor else entry.actor_label
        if entry.action == READY_EMAIL_ACTION:
            kind, title = _("Notification"), _("Order ready email sent")
        else:
            kind = _("Status")
            before, after = entry.before.get("status"), entry.after.get("status")
            title = f"{before} → {after}" if before or after else entry.action
        events.append(_event(entry.created_at, kind, title, entry.note, actor))
    payments = list(order.payments.all())
    refunds = Refund.objects.filter(payment__order=order).select_related("created_by")
    for payment in payments:
        events.append(
            _event(
                payment.created_at,
                _("Payment"),
                f"{payment.get_gateway_display()} · {payment.get_status_display()} · "
                f"{show_money(payment.amount, payment.currency)}",
                _("Reference: %s") % (payment.external_reference or "—"),
            )
        )
    for refund in refunds:
        events.append(
            _event(
                refund.created_at,
                _("Refund"),
                f"{show_money(refund.amount, refund.currency)} · {refund.get_status_display()}",
                refund.reason,
                refund.created_by.email if refund.created_by else "",
            )
        )
    for attempt in ProvisioningAttempt.objects.filter(order=order):
        detail = _("Request: %(request)s; response: %(response)s") % {
            "request": attempt.request_summary or "—",
            "response": attempt.response_summary or "—",
        }
        if attempt.error:
            detail += "; " + _("error: %s") % attempt.error
        events.append(
            _event(
                attempt.started_at,
                _("Provisioning"),
                _("Attempt %(number)s (%(operation)s): %(outcome)s")
                % {
                    "number": attempt.number,
                    "operation": attempt.get_operation_display(),
                    "outcome": attempt.get_outcome_display(),
                },
                detail,
            )
        )
    events.extend(_upstream_calls(order))
    references = [p.external_reference for p in payments if p.external_reference]
    if references:
        # The gateway's object id (Stripe Checkout Session, test session) is our payment's
        # external reference.
        for event in WebhookEvent.objects.filter(payload__data__object__id__in=references):
            events.append(
                _event(
                    event.received_at,
                    _("Webhook"),
                    f"{event.get_source_display()} {event.event_type}",
                    " · ".join(filter(None, [event.get_outcome_display(), event.error])),
                )
            )
    events.sort(key=lambda e: e["at"])
    return events


def _upstream_calls(order: Order) -> list[dict]:
    """The HTTP calls made to a real upstream under this order's references (provider health)."""
    if not order.provider_reference:
        return []
    calls = ProviderCall.objects.filter(
        Q(reference=order.provider_reference)
        | Q(reference__startswith=order.provider_reference + "-")
    ).order_by("started_at", "id")[:MAX_UPSTREAM_CALLS]
    return [
        _event(
            call.started_at,
            _("Upstream call"),
            f"{call.operation} · {call.method} {call.path} · "
            f"{call.status_code or '—'} · {call.latency_ms} ms",
            call.error or call.get_outcome_display(),
        )
        for call in calls
    ]


def _event(at, kind, title, detail="", actor=""):
    return {"at": at, "kind": kind, "title": title, "detail": detail, "actor": actor}
