"""The support queue in the admin: open conversations oldest-waiting first with an SLA clock,
the thread with internal notes, replies (canned or written), assignment, and the linked order's
actions. Every change goes through ``support.services`` (or the orders' own services)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin.audit import ALL_FIELDS, AuditedModelAdmin
from orders.models import Order, Sim
from orders.services.errors import OrderError
from orders.services.provisioning import retry_provisioning
from support import services
from support.attachments import read_screenshot
from support.errors import SupportError
from support.models import Attachment, CannedReply, Conversation

CHANGE = "support.change_conversation"


def sla_limit() -> timedelta:
    return timedelta(minutes=settings.SUPPORT_SLA_MINUTES)


def waited(conversation, now=None) -> str:
    """How long the customer has waited for an answer, highlighted past the SLA."""
    if conversation.waiting_since is None:
        return "—"
    age = (now or timezone.now()) - conversation.waiting_since
    minutes = int(age.total_seconds() // 60)
    text = _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}
    level = "sla-late" if age > sla_limit() else "sla-due" if age > sla_limit() / 2 else "sla-ok"
    return format_html('<span class="{}">{}</span>', level, text)


@admin.register(Conversation)
class ConversationAdmin(AuditedModelAdmin):
    """The queue: customers waiting longest first, then the rest by latest activity."""

    list_display = [
        "id",
        "subject",
        "owner",
        "category",
        "status",
        "assigned_to",
        "waiting",
        "last_message_at",
    ]
    list_filter = ["status", "category"]
    list_select_related = ["customer", "partner", "assigned_to"]
    search_fields = ["subject", "customer__email", "partner__name", "order__number"]
    ordering = [F("waiting_since").asc(nulls_last=True), "-last_message_at", "-id"]
    show_full_result_count = False
    change_form_template = "admin/support/conversation/thread.html"
    service_fields = ALL_FIELDS  # written by replies, assignment and closing below
    service_rows = True  # opened by customers and partners only

    @admin.display(description=_("Customer or partner"))
    def owner(self, conversation):
        if conversation.partner_id:
            return format_html("{}: {}", _("Partner"), conversation.partner.name)
        return conversation.customer.email

    @admin.display(description=_("Waiting"), ordering="waiting_since")
    def waiting(self, conversation):
        return waited(conversation)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/reply/", view(self.reply_view), name="support_conversation_reply"),
            path("<int:pk>/assign/", view(self.assign_view), name="support_conversation_assign"),
            path("<int:pk>/close/", view(self.close_view), name="support_conversation_close"),
            path("<int:pk>/retry/", view(self.retry_view), name="support_conversation_retry"),
            path(
                "screenshot/<int:pk>/",
                view(self.screenshot_view),
                name="support_screenshot",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        conversation = get_object_or_404(
            Conversation.objects.select_related(
                "customer", "partner", "assigned_to", "order__plan", "sim__operator"
            ),
            pk=object_id,
        )
        canned = CannedReply.objects.filter(active=True)
        chosen = canned.filter(pk=request.GET.get("canned") or 0).first()
        owner = (
            {"partner": conversation.partner_id}
            if conversation.partner_id
            else {"customer": conversation.customer_id}
        )
        sims = (
            {"partner": conversation.partner_id}
            if conversation.partner_id
            else {"owner": conversation.customer_id}
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Support conversation #%(id)s") % {"id": conversation.pk},
            "opts": self.model._meta,
            "conversation": conversation,
            "waiting": waited(conversation),
            "thread": conversation.messages.select_related("author").prefetch_related(
                "attachments"
            ),
            "canned": canned,
            "reply_text": chosen.text(conversation.language) if chosen else "",
            "orders": Order.objects.filter(**owner)
            .select_related("plan")
            .order_by("-created_at")[:10],
            "sims": Sim.objects.filter(**sims)
            .select_related("operator")
            .order_by("-created_at")[:10],
            "can_change": request.user.has_perm(CHANGE),
            "can_refund": request.user.has_perm("orders.change_payment"),
            "can_retry": request.user.has_perm("orders.change_order"),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def _act(self, request, pk, act, permission=CHANGE):
        if request.method != "POST" or not request.user.has_perm(permission):
            raise PermissionDenied
        conversation = get_object_or_404(Conversation, pk=pk)
        try:
            done = act(conversation)
        except (SupportError, OrderError) as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, done)
        return redirect(reverse("admin:support_conversation_change", args=[pk]))

    def reply_view(self, request, pk):
        internal = bool(request.POST.get("internal"))

        def reply(conversation):
            services.staff_reply(
                conversation=conversation,
                staff=request.user,
                body=request.POST.get("body", ""),
                internal=internal,
            )
            return _("Internal note added.") if internal else _("Reply sent to the customer.")

        return self._act(request, pk, reply)

    def assign_view(self, request, pk):
        def assign(conversation):
            services.assign(conversation=conversation, assignee=request.user, actor=request.user)
            return _("Assigned to you.")

        return self._act(request, pk, assign)

    def close_view(self, request, pk):
        def close(conversation):
            services.close(conversation=conversation, actor=request.user)
            return _("Conversation closed.")

        return self._act(request, pk, close)

    def retry_view(self, request, pk):
        def retry(conversation):
            order = conversation.order
            if order is None or order.status != Order.Status.NEEDS_ATTENTION:
                raise SupportError(
                    "not_retryable", _("Only orders that need attention are retried.")
                )
            retry_provisioning(order=order, actor=request.user)
            return _("%(number)s: provisioning retried") % {"number": order.number}

        return self._act(request, pk, retry, permission="orders.change_order")

    def screenshot_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = get_object_or_404(Attachment, pk=pk)
        response = HttpResponse(read_screenshot(attachment), content_type=attachment.content_type)
        response["Cache-Control"] = "no-store, private"
        return response


@admin.register(CannedReply)
class CannedReplyAdmin(AuditedModelAdmin):
    list_display = ["title", "category", "active"]
    list_filter = ["active", "category"]
    search_fields = ["title", "body_zh_hans", "body_en"]
