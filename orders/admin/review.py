"""The replacement review screens in the admin: the identity check queue, the review page,
decisions and documents (a check is reviewed to approve or reject a SIM replacement)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.documents import DocumentPurged, read_document
from accounts.models import IdentityCheck, IdentityDocument, RejectionReason
from core import audit
from core.admin.audit import AuditedModelAdmin
from orders.models import Order, ReplacementTicket, Sim
from orders.services.errors import OrderError
from orders.services.replacement import (
    REVIEW_PERMISSION,
    approve_replacement,
    reject_replacement,
)

SLA_TARGET = timedelta(hours=24)
SLA_LIMIT = timedelta(hours=48)


def can_review(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(REVIEW_PERMISSION)


@admin.register(IdentityCheck)
class IdentityCheckAdmin(AuditedModelAdmin):
    """Queue oldest first with an SLA clock; decisions only through the review page."""

    list_display = [
        "id",
        "customer",
        "full_name",
        "document_type",
        "status",
        "waiting",
        "first_approved_by",
    ]
    list_filter = ["status", "document_type"]
    list_select_related = ["customer", "first_approved_by"]
    search_fields = ["customer__email", "full_name", "document_number"]
    ordering = ["created_at"]
    show_full_result_count = False
    change_form_template = "admin/accounts/identitycheck/review.html"

    def has_module_permission(self, request):
        return can_review(request.user)

    def has_view_permission(self, request, obj=None):
        return can_review(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Waiting"), ordering="created_at")
    def waiting(self, check):
        if check.status != IdentityCheck.Status.PENDING:
            return "—"
        age = timezone.now() - check.created_at
        level = "sla-late" if age > SLA_LIMIT else "sla-due" if age > SLA_TARGET else "sla-ok"
        return format_html('<span class="{}">{} h</span>', level, int(age.total_seconds() // 3600))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="identitycheck_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="identitycheck_reject"),
            path("document/<int:pk>/", view(self.document_view), name="identitydocument_view"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not can_review(request.user):
            raise PermissionDenied
        check = get_object_or_404(
            IdentityCheck.objects.select_related("customer", "partner"), pk=object_id
        )
        ticket = ReplacementTicket.objects.select_related("sim__operator").get(identity_check=check)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review identity check #%(id)s") % {"id": check.pk},
            "opts": self.model._meta,
            "check": check,
            "ticket": ticket,
            "documents": sorted(
                check.documents.all(), key=lambda d: IdentityDocument.Kind.values.index(d.kind)
            ),
            "orders": Order.objects.filter(customer=check.customer_id)
            .select_related("plan")
            .order_by("-created_at")[:20],
            "sims": Sim.objects.filter(owner=check.customer_id).select_related("operator"),
            "earlier": IdentityCheck.objects.filter(customer=check.customer_id)
            .exclude(pk=check.pk)
            .order_by("-created_at"),
            "reasons": RejectionReason.choices,
            "own": request.user.pk in {check.customer_id, ticket.requested_by_id},
        }
        return TemplateResponse(request, self.change_form_template, context)

    def _decide(self, request, pk, decide):
        if request.method != "POST" or not can_review(request.user):
            raise PermissionDenied
        ticket = get_object_or_404(ReplacementTicket, identity_check_id=pk)
        try:
            decide(ticket)
        except (OrderError, PermissionDenied) as error:
            messages.error(request, getattr(error, "message", None) or str(error))
        return redirect(reverse("admin:accounts_identitycheck_change", args=[pk]))

    def approve_view(self, request, pk):
        def approve(ticket):
            approve_replacement(ticket=ticket, reviewer=request.user)
            messages.success(request, _("Approved."))

        return self._decide(request, pk, approve)

    def reject_view(self, request, pk):
        def reject(ticket):
            reject_replacement(
                ticket=ticket,
                reviewer=request.user,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Rejected."))

        return self._decide(request, pk, reject)

    def document_view(self, request, pk):
        """Show one document to a reviewer; every view is logged."""
        if not (
            can_review(request.user) and request.user.has_perm("accounts.view_identitydocument")
        ):
            raise PermissionDenied
        document = get_object_or_404(IdentityDocument, pk=pk)
        try:
            content = read_document(document)
        except DocumentPurged:
            return HttpResponse(
                _("This document was deleted after the retention period."), status=410
            )
        audit.record(
            action="identity_document.viewed",
            target=document,
            actor=request.user,
            note=f"{document.kind} of check #{document.check_request_id}",
        )
        response = HttpResponse(content, content_type=document.content_type)
        response["Cache-Control"] = "no-store, private"
        response["Content-Disposition"] = f'inline; filename="document-{document.pk}.jpg"'
        return response
