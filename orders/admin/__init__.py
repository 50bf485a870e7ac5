"""The staff admin of orders: orders, payments, refunds, SIMs, provisioning attempts, saved cards,
auto-renewals, wallet entries and payment events here; in their own modules the order pages'
extra views (``order_views``), search (``search``), the replacement review of identity checks
(``review``), the replacement tickets and their shipping by post (``replacement``), the
partner wallet form (``wallet``), partner webhooks (``partner_webhooks``) and
customer notifications (``customer_notifications``)."""

from datetime import timedelta
from functools import partial

from django.contrib import admin, messages
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin.audit import ALL_FIELDS, AuditedModelAdmin, ServiceFieldsMixin
from core.admin.filters import IndexedValuesFilter
from core.admin.paging import EstimatedCountPaginator
from core.money import format_money
from core.phone import national_number
from core.state import IllegalTransition
from orders.admin import (  # noqa: F401  (they register themselves)
    customer_notifications,
    partner_webhooks,
    replacement,
    review,
    wallet,
)
from orders.admin.order_views import REFUND_PERMISSION, order_timeline, refund_view
from orders.admin.search import search_orders, search_sims
from orders.models import (
    AutoRenewal,
    AutoRenewalCharge,
    Gateway,
    Order,
    Payment,
    ProvisioningAttempt,
    Refund,
    SavedPaymentMethod,
    Sim,
    WalletEntry,
    WebhookEvent,
)
from orders.services import lifecycle, notifications, payments, provisioning, refunds
from orders.services.errors import OrderError

# The admin reads; services write (ARCHITECTURE.md rule 11, docs/decisions.md). Orders,
# payments, refunds, SIMs, provisioning attempts, webhook events and wallet entries are the
# services' record of what happened: every field is read-only and no row is added or deleted
# here. Staff change them through the actions and forms below, each of which calls a service:
# retry provisioning, cancel, confirm a manual payment, refund (in full or in part, through the
# gateway), and the partner wallet's credit or debit form.


class PaymentInline(ServiceFieldsMixin, admin.TabularInline):
    model = Payment
    fields = [
        "gateway",
        "method",
        "status",
        "amount",
        "currency",
        "external_reference",
        "payer_account",
        "gateway_reference",
        "gateway_status",
        "expires_at",
    ]
    service_fields = ALL_FIELDS
    service_rows = True
    extra = 0


class ProvisioningAttemptInline(ServiceFieldsMixin, admin.TabularInline):
    model = ProvisioningAttempt
    fields = ["number", "operation", "outcome", "started_at", "finished_at", "error"]
    service_fields = ALL_FIELDS
    service_rows = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order")  # each row's str()


class ProblemsFilter(admin.SimpleListFilter):
    """Orders a member of staff should look at now."""

    title = _("problems")
    parameter_name = "problem"
    STUCK_AFTER = timedelta(minutes=10)

    def lookups(self, request, model_admin):
        return [
            ("needs_attention", _("Needs attention")),
            ("stuck_paid", _("Paid, not provisioning for over 10 minutes")),
            ("manual_payment", _("Awaiting manual confirmation")),
            ("staff_refund", _("Refund to send by hand")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "needs_attention":
            return queryset.filter(status=Order.Status.NEEDS_ATTENTION)
        if self.value() == "stuck_paid":
            return queryset.filter(
                status=Order.Status.PAID, updated_at__lt=timezone.now() - self.STUCK_AFTER
            )
        if self.value() == "manual_payment":
            return queryset.filter(
                status=Order.Status.AWAITING_PAYMENT,
                pk__in=Payment.objects.filter(
                    gateway=Gateway.MANUAL, status=Payment.Status.PENDING
                ).values("order_id"),
            )
        if self.value() == "staff_refund":  # the wallet has no refund API for it
            return queryset.filter(
                pk__in=refunds.awaiting_staff().values("payment__order_id"),
            )
        return queryset


def _report(modeladmin, request, order, done, call) -> None:
    """Run one service call for one order; report success or the refusal, never a 500.

    ``done`` is the success message, or a function of the call's result giving the message and
    its level.
    """
    try:
        result = call()
    except (OrderError, IllegalTransition) as exc:
        reason = exc.message if isinstance(exc, OrderError) else _("not allowed in its status")
        modeladmin.message_user(
            request,
            _("%(number)s: %(reason)s") % {"number": order.number, "reason": reason},
            messages.ERROR,
        )
    else:
        message, level = done(result) if callable(done) else (done, messages.SUCCESS)
        modeladmin.message_user(request, f"{order.number}: {message}", level)


def _refund_done(refund):
    if refund.status == Refund.Status.PENDING:
        return (
            _(
                "refund pending at the payment gateway; the order is marked refunded once the "
                "money is returned"
            ),
            messages.WARNING,
        )
    return _("refunded in full"), messages.SUCCESS


@admin.register(Order)
class OrderAdmin(AuditedModelAdmin):
    list_display = [
        "number",
        "kind",
        "status",
        "customer",
        "partner",
        "total",
        "currency",
        "created_at",
    ]
    list_filter = [
        ProblemsFilter,
        "status",
        "kind",
        "payments__gateway",
        "partner",
        "currency",
        "created_at",
    ]
    list_select_related = ["customer", "partner"]
    search_fields = [
        "=number",
        "=customer__email",
        "=issued_sims__iccid",
        "=sim__iccid",
        "=recharge_msisdn",
    ]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    service_fields = ALL_FIELDS
    service_rows = True
    readonly_fields = ["margin"]
    fields = [
        "number",
        "kind",
        "status",
        "customer",
        "partner",
        "plan",
        "quantity",
        "sim",
        "recharge_msisdn",
        "recharge_operator",
        "currency",
        "subtotal",
        "promotion",
        "discount",
        "total",
        "cost",
        "cost_currency",
        "margin",
        "idempotency_key",
        "customer_reference",
        "webhook_url",
        "upstream_reference",
        "created_at",
        "updated_at",
        "paid_at",
        "fulfilled_at",
    ]
    inlines = [PaymentInline, ProvisioningAttemptInline]
    change_form_template = "admin/orders/order/change_form.html"
    actions = [
        "retry_provisioning",
        "resend_ready_email",
        "cancel_unpaid",
        "confirm_manual_payment",
        "refund_in_full",
    ]

    @admin.display(description=_("Margin before refunds"))
    def margin(self, order):
        """Total less the cost snapshot, when both are in the same currency."""
        if order.cost is None or order.cost_currency != order.currency:
            return _("not comparable")
        return format_money(order.total - order.cost, order.currency)

    def has_payment_permission(self, request):
        return request.user.has_perm(REFUND_PERMISSION)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (search_orders(queryset, term), False) if term else (queryset, False)

    def get_urls(self):
        view = self.admin_site.admin_view(partial(refund_view, self))
        return [
            path("<path:object_id>/refund/", view, name="orders_order_refund"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["order_timeline"] = order_timeline(order)
            extra_context["can_refund"] = self.has_payment_permission(request)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Retry provisioning"), permissions=["change"])
    def retry_provisioning(self, request, queryset):
        for order in queryset:
            if order.status != Order.Status.NEEDS_ATTENTION:
                self.message_user(
                    request,
                    _("%(number)s: only orders that need attention are retried.")
                    % {"number": order.number},
                    messages.WARNING,
                )
                continue
            _report(
                self,
                request,
                order,
                _("provisioning retried"),
                lambda o=order: provisioning.retry_provisioning(order=o, actor=request.user),
            )

    @admin.action(description=_("Resend the ready email"), permissions=["change"])
    def resend_ready_email(self, request, queryset):
        for order in queryset.select_related("customer"):
            if order.status != Order.Status.FULFILLED or order.customer is None:
                self.message_user(
                    request,
                    _("%(number)s: only fulfilled orders of a customer have a ready email.")
                    % {"number": order.number},
                    messages.WARNING,
                )
                continue
            notifications.send_order_ready_email(order.pk, force=True, actor=request.user)
            self.message_user(
                request,
                _("%(number)s: ready email sent to %(email)s")
                % {"number": order.number, "email": order.customer.email},
                messages.SUCCESS,
            )

    @admin.action(description=_("Cancel unpaid orders"), permissions=["change"])
    def cancel_unpaid(self, request, queryset):
        for order in queryset:
            _report(
                self,
                request,
                order,
                _("cancelled"),
                lambda o=order: lifecycle.cancel_order(
                    order=o, actor=request.user, reason="cancelled by staff"
                ),
            )

    @admin.action(description=_("Confirm manual payment"), permissions=["payment"])
    def confirm_manual_payment(self, request, queryset):
        pending = Payment.objects.filter(
            order__in=queryset, gateway=Gateway.MANUAL, status=Payment.Status.PENDING
        ).select_related("order")
        by_order = {payment.order_id: payment for payment in pending.order_by("created_at")}
        for order in queryset:
            payment = by_order.get(order.pk)
            if payment is None:
                self.message_user(
                    request,
                    _("%(number)s: no pending manual payment.") % {"number": order.number},
                    messages.ERROR,
                )
                continue
            _report(
                self,
                request,
                order,
                _("manual payment confirmed"),
                lambda p=payment: payments.confirm_manual_payment(payment=p, actor=request.user),
            )

    @admin.action(description=_("Refund in full"), permissions=["payment"])
    def refund_in_full(self, request, queryset):
        for order in queryset:
            _report(
                self,
                request,
                order,
                _refund_done,
                lambda o=order: refunds.refund_order(
                    order=o, actor=request.user, reason="full refund by staff"
                ),
            )


@admin.register(Payment)
class PaymentAdmin(AuditedModelAdmin):
    list_display = [
        "id",
        "order",
        "gateway",
        "method",
        "status",
        "amount",
        "currency",
        "external_reference",
        "gateway_status",
        "created_at",
    ]
    list_filter = ["gateway", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "external_reference", "gateway_reference", "payer_account"]
    service_fields = ALL_FIELDS  # confirmed, failed or refunded through the order's actions
    service_rows = True
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


@admin.register(Refund)
class RefundAdmin(AuditedModelAdmin):
    list_display = [
        "id",
        "payment",
        "amount",
        "currency",
        "status",
        "external_reference",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["payment"]
    service_fields = ALL_FIELDS  # made by the order's refund action or form, through the gateway
    service_rows = True
    actions = ["mark_sent_by_staff"]

    @admin.action(description=_("Mark as sent by staff"), permissions=["payment"])
    def mark_sent_by_staff(self, request, queryset):
        """Refunds a wallet cannot send itself: staff sent them from its merchant portal."""
        for refund in queryset.select_related("payment__order"):
            try:
                done = refunds.mark_refund_sent_by_staff(refund=refund, actor=request.user)
            except OrderError as exc:
                self.message_user(request, f"#{refund.pk}: {exc.message}", messages.ERROR)
                continue
            message = (
                _("#%(id)s: refund recorded as sent.") if done else _("#%(id)s: already completed.")
            )
            self.message_user(request, message % {"id": refund.pk})

    def has_payment_permission(self, request):
        return request.user.has_perm(REFUND_PERMISSION)


@admin.register(Sim)
class SimAdmin(AuditedModelAdmin):
    list_display = [
        "iccid",
        "number",
        "operator",
        "form",
        "status",
        "owner",
        "partner",
        "expires_at",
    ]
    list_filter = ["status", "form", "operator"]
    list_select_related = ["operator", "owner", "partner"]
    search_fields = ["iccid", "msisdn", "owner__email"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    # Issued, renewed, replaced and synced by the services from what the upstream reports.
    service_fields = ALL_FIELDS
    service_rows = True

    @admin.display(description=_("phone number"), ordering="msisdn")
    def number(self, sim):
        """The number as the site shows it (``0300 1234567``)."""
        return national_number(sim.msisdn)

    def get_search_results(self, request, queryset, search_term):
        found = search_sims(queryset, search_term.strip())
        if found is None:
            return super().get_search_results(request, queryset, search_term)
        return found, False


@admin.register(ProvisioningAttempt)
class ProvisioningAttemptAdmin(AuditedModelAdmin):
    list_display = ["order", "number", "operation", "outcome", "started_at", "finished_at"]
    list_filter = ["outcome", "operation"]
    list_select_related = ["order"]
    search_fields = ["order__number", "reference"]
    service_fields = ALL_FIELDS
    service_rows = True
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


@admin.register(WebhookEvent)
class WebhookEventAdmin(AuditedModelAdmin):
    list_display = [
        "source",
        "event_type",
        "event_id",
        "received_at",
        "outcome",
        "attempts",
        "error",
    ]
    list_filter = ["outcome", "source", ("event_type", IndexedValuesFilter)]
    search_fields = ["event_id"]
    service_fields = ALL_FIELDS  # recorded once as the source sent it, ended by the services
    service_rows = True
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator


@admin.register(WalletEntry)
class WalletEntryAdmin(AuditedModelAdmin):
    list_display = ["created_at", "partner", "kind", "amount", "currency", "order", "reason"]
    list_filter = ["kind", "partner"]
    list_select_related = ["partner", "order"]
    service_fields = ALL_FIELDS  # credits and debits go through the partner's wallet form
    service_rows = True
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(AuditedModelAdmin):
    """Records written by the services; staff read them here."""

    service_fields = ALL_FIELDS
    service_rows = True

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AutoRenewal)
class AutoRenewalAdmin(ReadOnlyAdmin):
    list_display = ["sim", "enabled", "plan", "currency", "payment_method", "updated_at"]
    list_filter = ["enabled"]
    list_select_related = ["sim__operator", "plan", "payment_method"]
    search_fields = ["sim__iccid", "sim__owner__email"]


@admin.register(AutoRenewalCharge)
class AutoRenewalChargeAdmin(ReadOnlyAdmin):
    list_display = ["auto_renewal", "period_key", "status", "attempts", "order", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["auto_renewal__sim__operator", "order"]
    search_fields = ["auto_renewal__sim__iccid", "order__number"]


@admin.register(SavedPaymentMethod)
class SavedPaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ["customer", "gateway", "label", "saved_at", "revoked_at"]
    list_filter = ["gateway"]
    list_select_related = ["customer"]
    search_fields = ["customer__email"]
