"""Replacement tickets in the admin: requested through the site or the API and decided on the
identity review page; here staff ship a SIM card by post (courier and tracking number), correct
a mistyped tracking and mark it activated, each through a form that calls
``orders.services.shipping``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.admin.audit import AuditedModelAdmin
from orders import couriers
from orders.models import ReplacementTicket, Sim
from orders.services.errors import OrderError
from orders.services.shipping import (
    SHIP_PERMISSION,
    confirm_activation,
    correct_tracking,
    ship_replacement,
)

Status = ReplacementTicket.Status


class ShipForm(forms.Form):
    courier = forms.ChoiceField(label=_("Courier"), choices=couriers.CHOICES)
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=60,
        help_text=_("As printed on the courier's receipt."),
    )


@admin.register(ReplacementTicket)
class ReplacementTicketAdmin(AuditedModelAdmin):
    """The tickets, each with its steps and times; shipping and activation through forms."""

    list_display = ["id", "sim", "reason", "status", "courier", "shipped_at", "activated_at"]
    list_filter = ["status", "reason", "courier"]
    list_select_related = ["sim__operator"]
    search_fields = ["sim__iccid", "tracking_number"]
    service_fields = [
        "sim",
        "requested_by",
        "partner",
        "identity_check",
        "order",
        "new_sim",
        "reason",
        "courier",
        "tracking_number",
        "approved_at",
        "issued_at",
        "shipped_at",
        "activated_at",
    ]
    service_rows = True
    readonly_fields = ["steps", "tracking_link"]
    change_form_template = "admin/orders/replacementticket/change_form.html"

    @admin.display(description=_("Steps"))
    def steps(self, ticket):
        return format_html_join(
            "",
            "<div>{} · {}</div>",
            (
                (label, f"{timezone.localtime(at):%Y-%m-%d %H:%M}")
                for _state, label, at in ticket.steps()
            ),
        )

    @admin.display(description=_("Tracking link"))
    def tracking_link(self, ticket):
        url = ticket.tracking_url
        if not url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener">{} {}</a>',
            url,
            ticket.courier_name,
            ticket.tracking_number,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/ship/", view(self.ship_view), name="orders_replacementticket_ship"),
            path(
                "<int:pk>/tracking/",
                view(self.tracking_view),
                name="orders_replacementticket_tracking",
            ),
            path(
                "<int:pk>/activate/",
                view(self.activate_view),
                name="orders_replacementticket_activate",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        if ticket is not None and request.user.has_perm(SHIP_PERMISSION):
            by_post = ticket.sim.form == Sim.Form.PHYSICAL
            extra_context = {
                **(extra_context or {}),
                "can_ship": by_post and ticket.status == Status.ISSUED,
                "can_activate": by_post and ticket.status == Status.SHIPPED,
                "can_correct_tracking": by_post and ticket.status == Status.SHIPPED,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def ship_view(self, request, pk):
        """The courier and tracking number of a SIM card sent by post."""
        ticket = self._ticket(request, pk)
        return self._step(
            request,
            ticket,
            ShipForm(request.POST or None),
            lambda **data: ship_replacement(ticket=ticket, actor=request.user, **data),
            done=_("Shipped: the customer has the tracking link."),
            unchanged=lambda: self._already_shipped(ticket),
            title=_("Ship the new SIM card"),
            submit=_("Ship"),
        )

    def tracking_view(self, request, pk):
        """Correct the courier or tracking number of a SIM card on its way."""
        ticket = self._ticket(request, pk)
        initial = {"courier": ticket.courier, "tracking_number": ticket.tracking_number}
        return self._step(
            request,
            ticket,
            ShipForm(request.POST or None, initial=initial),
            lambda **data: correct_tracking(ticket=ticket, actor=request.user, **data),
            done=_("Corrected: the customer has the new tracking."),
            unchanged=lambda: _("The tracking was already this; nothing changed."),
            title=_("Correct the tracking"),
            submit=_("Correct"),
        )

    def activate_view(self, request, pk):
        """Mark the new SIM card activated (the customer says it works): the old SIM is retired."""
        ticket = self._ticket(request, pk)
        return self._step(
            request,
            ticket,
            forms.Form(request.POST if request.method == "POST" else None),
            lambda: confirm_activation(ticket=ticket, staff=request.user),
            done=_("Activated: the old SIM is retired."),
            unchanged=lambda: _("Already activated; nothing changed."),
            title=_("Mark the new SIM card activated"),
            submit=_("Mark activated"),
            activating=True,
        )

    def _step(self, request, ticket, form, run, *, done, unchanged, **page):
        """On a valid POST, ``run`` the step with the form's data: back to the ticket saying
        ``done``, or ``unchanged()`` when it had been done; else (or refused) the form's page."""
        if request.method == "POST" and form.is_valid():
            try:
                changed = run(**form.cleaned_data)
            except OrderError as error:
                form.add_error(None, error.message)
            else:
                if changed:
                    messages.success(request, done)
                else:
                    messages.info(request, unchanged())
                return redirect(self._change_url(ticket))
        return self._page(request, ticket, form, **page)

    def _ticket(self, request, pk) -> ReplacementTicket:
        if not request.user.has_perm(SHIP_PERMISSION):
            raise PermissionDenied
        return get_object_or_404(ReplacementTicket.objects.select_related("sim__operator"), pk=pk)

    def _change_url(self, ticket) -> str:
        return reverse("admin:orders_replacementticket_change", args=[ticket.pk])

    def _already_shipped(self, ticket) -> str:
        values = {
            "time": f"{timezone.localtime(ticket.shipped_at):%Y-%m-%d %H:%M}",
            "courier": ticket.courier_name,
            "number": ticket.tracking_number,
        }
        return (
            _("Already shipped on %(time)s with %(courier)s %(number)s; nothing changed.") % values
        )

    def _page(self, request, ticket, form, title, submit, activating=False):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "original": ticket,
            "change_url": self._change_url(ticket),
            "form": form,
            "submit": submit,
            "activating": activating,
        }
        return TemplateResponse(request, "admin/orders/replacementticket/step.html", context)
