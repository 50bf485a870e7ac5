"""The admin reads; services write (ARCHITECTURE.md rule 11, docs/decisions.md).

Every admin page and inline is opened as a superuser: no money, currency, state or provisioning
field may be editable on any add or change form, and rows that only a service creates cannot be
added. What counts as such a field is decided here, from the models and the lists below, not
from the admin's own mechanism, so a gap in the mechanism shows up as a failure.
"""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import ADMINISTRATORS, FINANCE, SUPPORT, sync_staff_roles
from core.admin.audit import ServiceFieldsMixin
from core.money import Currency
from core.state import TransitionMap
from orders.models import Order, Payment, Refund, ReplacementTicket, Sim, WalletEntry
from tests.factories import (
    CustomerFactory,
    OrderFactory,
    PartnerFactory,
    PaymentFactory,
    PlanFactory,
    ReplacementTicketFactory,
    SimFactory,
    UserFactory,
    make_iccid,
)
from tests.portal.admin_rows import add_rows
from tests.staff import login_staff

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)

# Rows only a service creates: no admin page or inline may offer to add one.
SERVICE_CREATED = {
    "accounts.ApiKey",
    "accounts.IdentityCheck",
    "orders.Notification",
    "orders.WebhookAttempt",
    "orders.WebhookDelivery",
    "orders.AutoRenewal",
    "orders.AutoRenewalCharge",
    "orders.Order",
    "orders.Payment",
    "orders.ProvisioningAttempt",
    "orders.Refund",
    "orders.ReplacementTicket",
    "orders.SavedPaymentMethod",
    "orders.Sim",
    "orders.WalletEntry",
    "orders.WebhookEvent",
    "plans.ProviderCall",
    "plans.SandboxOrder",
    "core.AuditEntry",
    "support.Conversation",
}

# The services' record of money and SIMs, and the audit trail: nobody deletes a row here either
# (customer notifications and partner webhook deliveries are messages, not such records).
MESSAGES = {"orders.Notification", "orders.WebhookAttempt", "orders.WebhookDelivery"}
NEVER_DELETED = {
    label for label in SERVICE_CREATED if label.startswith("orders.") and label not in MESSAGES
} | {"core.AuditEntry"}

# Provisioning, identity and "who bought what" fields that only services write.
PROVISIONING_FIELDS = {
    "orders.Order": {
        "number",
        "kind",
        "customer",
        "partner",
        "plan",
        "quantity",
        "sim",
        "promotion",
        "recharge_msisdn",
        "recharge_operator",
        "idempotency_key",
        "upstream_reference",
        "paid_at",
        "fulfilled_at",
    },
    "orders.Payment": {"order", "gateway", "method", "external_reference", "idempotency_key"},
    "orders.Refund": {"payment", "external_reference", "idempotency_key", "created_by"},
    "orders.Sim": {
        "iccid",
        "msisdn",
        "form",
        "operator",
        "provider",
        "provider_reference",
        "owner",
        "partner",
        "issued_by_order",
        "activation_code",
        "confirmation_code",
        "current_plan",
        "data_total_mb",
        "data_remaining_mb",
        "expires_at",
        "usage_synced_at",
        "replaced_by",
    },
    "orders.ProvisioningAttempt": {
        "order",
        "number",
        "provider",
        "operation",
        "reference",
        "request_summary",
        "response_summary",
        "error",
        "finished_at",
    },
    "orders.ReplacementTicket": {
        "sim",
        "new_sim",
        "order",
        "identity_check",
        "requested_by",
        "partner",
        "reason",
    },
    "orders.WalletEntry": {"partner", "kind", "order", "reason", "created_by"},
    "orders.WebhookEvent": {
        "source",
        "event_id",
        "event_type",
        "payload",
        "processed_at",
        "outcome",
        "attempts",
        "error",
    },
    "accounts.CustomerProfile": {"identity_flagged"},
}

# Catalog management: staff price what is sold by hand (plans, prices, rules, promotions).
CATALOG = {
    "plans.Operator",
    "plans.OperatorPrefix",
    "plans.Provider",
    "plans.Plan",
    "plans.PlanPrice",
    "plans.PartnerPriceRule",
    "plans.Promotion",
}
# A partner's credit terms are set by hand; its currency is chosen when it is created and fixed
# after (its wallet ledger is kept in it).
STAFF_SET = {"accounts.Partner": {"credit_limit", "low_balance_threshold"}}
SET_ON_ADD = {"accounts.Partner": {"currency"}}


def is_money(field) -> bool:
    if isinstance(field, models.DecimalField):
        return True
    return isinstance(field, models.CharField) and (
        field.name.endswith("currency")
        or {value for value, _label in field.choices or ()} == set(Currency.values)
    )


def is_state(model, field) -> bool:
    if field.name in {"status", "outcome"}:
        return True
    transitions = getattr(model, "TRANSITIONS", None)
    if not isinstance(transitions, TransitionMap) or not field.choices:
        return False
    return {value for value, _label in field.choices} == set(transitions.choices.values)


def guarded(model, field, adding: bool) -> bool:
    """Whether ``field`` of ``model`` must not be editable in the admin."""
    label = model._meta.label
    if label in CATALOG or field.name in STAFF_SET.get(label, ()):
        return False
    if adding and field.name in SET_ON_ADD.get(label, ()):
        return False
    return (
        is_money(field)
        or is_state(model, field)
        or field.name in PROVISIONING_FIELDS.get(label, ())
    )


def guarded_names(model, names, adding: bool) -> set[str]:
    fields = {f.name: f for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    return {name for name in names if name in fields and guarded(model, fields[name], adding)}


def problems_of(model_admin, request, obj) -> list[str]:
    """Every guarded field a superuser could edit through this admin, and every forbidden add."""
    model = model_admin.model
    label = model._meta.label
    found = []
    if model_admin.has_add_permission(request):
        if label in SERVICE_CREATED:
            found.append(f"{label}: can be added")
        form = model_admin.get_form(request, None, change=False)
        found += [f"{label}.{n} (add)" for n in guarded_names(model, form.base_fields, True)]
    if label in NEVER_DELETED and model_admin.has_delete_permission(request, obj):
        found.append(f"{label}: can be deleted")
    if model_admin.has_change_permission(request, obj):
        form = model_admin.get_form(request, obj, change=True)
        found += [f"{label}.{n} (change)" for n in guarded_names(model, form.base_fields, False)]
        editable_in_list = set(model_admin.list_editable)
        found += [f"{label}.{n} (list)" for n in guarded_names(model, editable_in_list, False)]
    for inline in model_admin.get_inline_instances(request, obj):
        inline_label = f"{label} inline {inline.model._meta.label}"
        adds = inline.has_add_permission(request, obj)
        if adds and inline.model._meta.label in SERVICE_CREATED:
            found.append(f"{inline_label}: can be added")
        if inline.model._meta.label in NEVER_DELETED and inline.has_delete_permission(request, obj):
            found.append(f"{inline_label}: can be deleted")
        if adds or inline.has_change_permission(request, obj):
            form = inline.get_formset(request, obj).form
            names = guarded_names(inline.model, form.base_fields, adding=False)
            found += [f"{inline_label}.{n}" for n in names]
    return found


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_no_money_state_or_provisioning_field_is_editable(superuser, model):
    add_rows(model, 1)
    obj = model._default_manager.order_by("-pk").first()
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert problems_of(admin.site._registry[model], request, obj) == []


def test_the_lists_name_real_fields():
    """A renamed field would silently drop out of the check above."""
    registered = {model._meta.label: model for model in admin.site._registry}
    for model_admin in admin.site._registry.values():
        registered |= {inline.model._meta.label: inline.model for inline in model_admin.inlines}
    for label, names in PROVISIONING_FIELDS.items():
        model = registered[label]
        missing = names - {field.name for field in model._meta.get_fields()}
        assert missing == set(), label
    assert (SERVICE_CREATED | CATALOG) - set(registered) == set()


def test_every_admin_page_and_inline_uses_the_shared_mechanism():
    missing = []
    for model_admin in admin.site._registry.values():
        for part in [type(model_admin), *model_admin.inlines]:
            if not issubclass(part, ServiceFieldsMixin):
                missing.append(part.__name__)
    assert missing == []


# Through the real entry point: the admin's change and add pages, as each role.


def staff_user(role: str | None):
    if role is None:
        return UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[role])
    return user


def form_data(page) -> dict:
    """The change form's current values as the browser would post them back."""
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value is not None and value is not False:
                data[form.add_prefix(name)] = value
    return data


def post_change(client, obj, changes: dict):
    """Open ``obj``'s change page and post it back with ``changes``, as a browser would."""
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    if page.status_code != 200:
        return page.status_code
    response = client.post(url, form_data(page) | changes)
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [None, SUPPORT, ADMINISTRATORS], ids=["superuser", "support", "admins"]
)
def test_a_paid_orders_money_and_buyer_cannot_be_changed(client, role):
    order = OrderFactory(status=Order.Status.PAID, total=Decimal("599"))
    PaymentFactory(order=order, status=Payment.Status.SUCCEEDED)
    login_staff(client, staff_user(role))
    before = Order.objects.values().get(pk=order.pk)
    status = post_change(
        client,
        order,
        {
            "total": "1.00",
            "subtotal": "1.00",
            "currency": Currency.USD,
            "plan": PlanFactory().pk,
            "customer": CustomerFactory().pk,
            "status": Order.Status.REFUNDED,
        },
    )
    assert status in {200, 302, 403}
    assert Order.objects.values().get(pk=order.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [None, FINANCE, ADMINISTRATORS], ids=["superuser", "finance", "admins"]
)
def test_a_payments_amount_and_gateway_cannot_be_changed(client, role):
    payment = PaymentFactory(status=Payment.Status.SUCCEEDED, amount=Decimal("599"))
    login_staff(client, staff_user(role))
    before = Payment.objects.values().get(pk=payment.pk)
    status = post_change(
        client,
        payment,
        {"amount": "1.00", "currency": Currency.USD, "gateway": "manual", "status": "refunded"},
    )
    assert status in {200, 302, 403}
    assert Payment.objects.values().get(pk=payment.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, ADMINISTRATORS], ids=["superuser", "admins"])
def test_a_sims_iccid_and_activation_code_cannot_be_changed(client, role):
    sim = SimFactory()
    login_staff(client, staff_user(role))
    before = Sim.objects.values().get(pk=sim.pk)
    status = post_change(
        client,
        sim,
        {
            "iccid": make_iccid(987654),
            "activation_code": "LPA:1$evil.example$X",
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
            "data_remaining_mb": "10240",
        },
    )
    assert status in {200, 302, 403}
    assert Sim.objects.values().get(pk=sim.pk) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [None, FINANCE, ADMINISTRATORS], ids=["superuser", "finance", "admins"]
)
def test_a_refund_cannot_be_added_without_the_gateway(client, role):
    payment = PaymentFactory(status=Payment.Status.SUCCEEDED)
    login_staff(client, staff_user(role))
    url = reverse("admin:orders_refund_add")
    data = {
        "payment": payment.pk,
        "amount": "100.00",
        "currency": "PKR",
        "reason": "by hand",
        "idempotency_key": "by-hand-1",
        "status": "succeeded",
    }
    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert not Refund.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, FINANCE], ids=["superuser", "finance"])
def test_a_wallet_entry_is_added_only_through_the_wallet_form(client, role):
    partner = PartnerFactory()
    login_staff(client, staff_user(role))
    data = {"partner": partner.pk, "kind": "top_up", "amount": "5000", "currency": "PKR"}
    assert client.post(reverse("admin:orders_walletentry_add"), data).status_code == 403
    assert not WalletEntry.objects.exists()
    wallet = reverse("admin:accounts_partner_wallet", args=[partner.pk])
    client.post(wallet, {"amount": "5000", "reason": "Bank transfer FT-9"})
    assert WalletEntry.balance_of(partner) == Decimal("5000")


@pytest.mark.django_db
def test_staff_still_edit_a_tickets_address_but_not_its_status_or_shipping(client):
    """Shipping goes through the ship form (orders.services.shipping), never the change form."""
    ticket = ReplacementTicketFactory()
    login_staff(client, staff_user(None))
    changes = {"delivery_address": "12 Mall Road, Lahore", "status": "shipped"}
    status = post_change(client, ticket, changes | {"tracking_number": "TCS-123"})
    assert status == 302
    ticket.refresh_from_db()
    assert ticket.delivery_address == "12 Mall Road, Lahore"
    assert (ticket.status, ticket.tracking_number) == (ticket.Status.SUBMITTED, "")


@pytest.mark.django_db
def test_saving_a_ticket_keeps_a_status_the_services_wrote_meanwhile(client, monkeypatch):
    """The admin writes only the fields its form changed, never a stale copy of the others."""
    ticket = ReplacementTicketFactory()
    login_staff(client, staff_user(None))
    url = reverse("admin:orders_replacementticket_change", args=[ticket.pk])
    data = form_data(client.get(url)) | {"delivery_address": "12 Mall Road, Lahore"}
    model_admin = admin.site._registry[ReplacementTicket]
    save_form = model_admin.save_form

    def reviewer_approves_meanwhile(request, form, change):
        # The review service approves the ticket after the admin read it, before it saves.
        ReplacementTicket.objects.filter(pk=ticket.pk).update(status=ticket.Status.APPROVED)
        return save_form(request, form, change)

    monkeypatch.setattr(model_admin, "save_form", reviewer_approves_meanwhile)
    assert client.post(url, data).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.delivery_address, ticket.status) == ("12 Mall Road, Lahore", "approved")


@pytest.mark.django_db
def test_a_partners_currency_is_fixed_once_created(client):
    partner = PartnerFactory(currency=Currency.PKR, credit_limit=Decimal("0"))
    login_staff(client, staff_user(None))
    status = post_change(client, partner, {"currency": Currency.USD, "credit_limit": "5000"})
    assert status == 302
    partner.refresh_from_db()
    assert (partner.currency, partner.credit_limit) == (Currency.PKR, Decimal("5000"))
