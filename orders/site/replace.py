"""Replacement (补卡) on the customer site: request with documents, then follow its status."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.documents import DocumentRejected
from core.currency import current_currency
from orders.models import ReplacementTicket, Sim
from orders.services.errors import OrderError
from orders.services.replacement import ineligibility, open_ticket, request_replacement
from orders.services.shipping import confirm_activation
from orders.site.forms.replace import ReplacementForm

REVIEW_HOURS = (24, 48)
Status = ReplacementTicket.Status
SHOWN_AFTER_CLOSING = {Status.ISSUED, Status.SHIPPED, Status.ACTIVATED}


@login_required
@require_http_methods(["GET", "POST"])
def replace(request, iccid: str):
    """The request form, or the status of the request in progress."""
    sim = get_object_or_404(Sim.objects.select_related("operator"), iccid=iccid, owner=request.user)
    if sim.form == Sim.Form.ESIM and sim.status == Sim.Status.CANCELLED:
        raise Http404
    tickets = sim.replacement_tickets.select_related("identity_check", "order", "new_sim").order_by(
        "-created_at"
    )
    latest = tickets.first()
    context = {"sim": sim, "latest": latest, "review_hours": REVIEW_HOURS}
    if open_ticket(sim) or (latest and latest.status in SHOWN_AFTER_CLOSING):
        return render(request, "orders/site/replace_status.html", context)
    problem = ineligibility(sim, request.user)
    physical = sim.form == Sim.Form.PHYSICAL
    form = ReplacementForm(
        request.POST or None,
        request.FILES or None,
        physical=physical,
        initial={"currency": current_currency(request)},
    )
    if request.method == "POST" and not problem and form.is_valid():
        data = form.cleaned_data
        try:
            request_replacement(
                sim=sim,
                customer=request.user,
                reason=data["reason"],
                full_name=data["full_name"],
                document_type=data["document_type"],
                document_number=data["document_number"],
                front=data["front"],
                back=data["back"],
                selfie=data["selfie"],
                currency=data["currency"],
                delivery_address=data.get("delivery_address", ""),
            )
        except DocumentRejected as rejected:
            form.add_error(None, rejected.message)
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            return redirect("sims:replace", iccid=sim.iccid)
    context.update(form=form, problem=problem)
    return render(request, "orders/site/replace_form.html", context)


@login_required
@require_POST
def confirm(request, iccid: str):
    """The owner says the new SIM card works: it is activated and the old SIM retired."""
    sim = get_object_or_404(Sim, iccid=iccid, owner=request.user, form=Sim.Form.PHYSICAL)
    ticket = get_object_or_404(
        sim.replacement_tickets.filter(status__in=[Status.SHIPPED, Status.ACTIVATED])
    )
    try:
        activated = confirm_activation(ticket=ticket, customer=request.user)
    except OrderError as error:
        messages.error(request, error.message)
    else:
        if activated:
            messages.success(request, _("Thank you: your new SIM card is active."))
        else:
            messages.info(request, _("You have already confirmed your new SIM card."))
    return redirect("sims:replace", iccid=sim.iccid)
