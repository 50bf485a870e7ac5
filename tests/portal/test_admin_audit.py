"""Every staff action in the admin leaves an audit row: who, what, before and after."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey
from core.admin.audit import AuditedAdminMixin
from core.models import AuditEntry
from orders.models import Order, Payment
from plans.models import PlanPrice, Promotion
from tests.factories import (
    OrderFactory,
    PartnerFactory,
    PaymentFactory,
    PlanFactory,
    PlanPriceFactory,
)

pytestmark = pytest.mark.django_db
Status = Order.Status


def by(signed_in_superuser, action: str) -> AuditEntry:
    return AuditEntry.objects.filter(actor=signed_in_superuser, action=action).latest("pk")


def run_action(client, model: str, action: str, *objects):
    url = reverse(f"admin:{model}_changelist")
    response = client.post(url, {"action": action, "_selected_action": [o.pk for o in objects]})
    assert response.status_code == 302


def test_every_admin_page_writes_the_audit_trail():
    from django.contrib import admin

    unaudited = [
        type(model_admin).__name__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, AuditedAdminMixin)
        and model_admin.model._meta.label != "core.AuditEntry"
    ]
    assert unaudited == []


def form_data(page) -> dict:
    """The change form's current values as the browser would post them back."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return data


def test_editing_a_plan_records_before_and_after(client, signed_in_superuser):
    plan = PlanFactory(cost=Decimal("100.00"), validity_days=7)
    url = reverse("admin:plans_plan_change", args=[plan.pk])
    data = form_data(client.get(url)) | {"cost": "120.00"}
    assert client.post(url, data).status_code == 302
    entry = by(signed_in_superuser, "admin.plan.changed")
    assert entry.target_id == str(plan.pk)
    assert entry.before == {"cost": "100"} and entry.after == {"cost": "120"}


def test_changing_an_inline_price_is_recorded(client, signed_in_superuser):
    price = PlanPriceFactory(amount=Decimal("500.00"))
    url = reverse("admin:plans_plan_change", args=[price.plan_id])
    data = form_data(client.get(url)) | {"prices-0-amount": "550.00"}
    assert client.post(url, data).status_code == 302
    entry = by(signed_in_superuser, "admin.planprice.changed")
    assert entry.before == {"amount": "500"} and entry.after == {"amount": "550"}
    assert PlanPrice.objects.get(pk=price.pk).amount == Decimal("550.00")


def test_deleting_a_promotion_records_what_it_was(client, signed_in_superuser):
    promotion = Promotion.objects.create(
        code="EID10", percent_off=Decimal("10"), starts_at=timezone.now()
    )
    url = reverse("admin:plans_promotion_delete", args=[promotion.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    entry = by(signed_in_superuser, "admin.promotion.deleted")
    assert entry.before["code"] == "EID10" and entry.after == {}


def test_order_actions_record_their_status_changes(client, signed_in_superuser):
    stuck = OrderFactory(status=Status.NEEDS_ATTENTION)
    unpaid = OrderFactory(status=Status.AWAITING_PAYMENT)
    paid = OrderFactory(status=Status.FULFILLED)
    PaymentFactory(order=paid, status=Payment.Status.SUCCEEDED)
    run_action(client, "orders_order", "retry_provisioning", stuck)
    run_action(client, "orders_order", "cancel_unpaid", unpaid)
    run_action(client, "orders_order", "refund_in_full", paid)
    changes = {
        entry.target_id: (entry.before, entry.after)
        for entry in AuditEntry.objects.filter(actor=signed_in_superuser, action="order.status")
    }
    assert changes[str(stuck.pk)][0] == {"status": Status.NEEDS_ATTENTION}
    assert changes[str(unpaid.pk)][1] == {"status": Status.CANCELLED}
    assert changes[str(paid.pk)][1] == {"status": Status.REFUNDED}


def test_resending_the_ready_email_is_recorded_with_the_staff_member(
    client, signed_in_superuser, mailoutbox
):
    order = OrderFactory(status=Status.FULFILLED)
    run_action(client, "orders_order", "resend_ready_email", order)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [order.customer.email]
    assert by(signed_in_superuser, "order.ready_email_sent").target_id == str(order.pk)


def test_resend_refuses_orders_without_a_ready_email(client, signed_in_superuser, mailoutbox):
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    run_action(client, "orders_order", "resend_ready_email", order)
    assert mailoutbox == []
    assert not AuditEntry.objects.filter(action="order.ready_email_sent").exists()


def test_wallet_credit_and_api_keys_are_recorded(client, signed_in_superuser):
    partner = PartnerFactory()
    client.post(
        reverse("admin:accounts_partner_wallet", args=[partner.pk]),
        {"amount": "1000", "reason": "Bank transfer FT-1"},
    )
    assert (
        by(signed_in_superuser, "wallet.adjusted").note
        or by(signed_in_superuser, "wallet.adjusted").after
    )
    run_action(client, "accounts_partner", "issue_key", partner)
    key = ApiKey.objects.get(partner=partner)
    assert by(signed_in_superuser, "api_key.issued").target_id == str(key.pk)
    run_action(client, "accounts_apikey", "revoke", key)
    assert by(signed_in_superuser, "api_key.revoked").target_id == str(key.pk)


def test_audit_entries_cannot_be_changed_or_deleted_in_the_admin(client, signed_in_superuser):
    order = OrderFactory()
    entry = AuditEntry.objects.create(
        action="order.status",
        target_type=ContentType.objects.get_for_model(order),
        target_id=str(order.pk),
        target_repr="x",
    )
    assert client.post(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code in {
        403,
        302,
    }
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    signed_in_superuser.user_permissions.add(
        *Permission.objects.filter(codename__endswith="_auditentry")
    )
    response = client.post(
        reverse("admin:core_auditentry_change", args=[entry.pk]), {"action": "edited"}
    )
    assert response.status_code in {403, 200}
    entry.refresh_from_db()
    assert entry.action == "order.status"
