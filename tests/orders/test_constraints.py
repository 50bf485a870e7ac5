"""Rules the database itself enforces, and the append-only tables."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record
from core.models import AppendOnlyError, AuditEntry
from orders.models import Order, ReplacementTicket, WebhookEvent
from plans.models import PartnerPriceRule, Promotion
from tests.clock import LAST_DAY_LATE_EVENING
from tests.factories import (
    CustomerFactory,
    OperatorFactory,
    OrderFactory,
    PartnerFactory,
    PlanFactory,
    ReplacementTicketFactory,
    SimFactory,
    WalletEntryFactory,
)

pytestmark = pytest.mark.django_db


def refused(create):
    """``create()`` fails with an IntegrityError (inside a savepoint, so the test goes on)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- Orders ----------------------------------------------------------------------------------


def test_order_with_both_customer_and_partner_is_refused():
    refused(lambda: OrderFactory(partner=PartnerFactory()))


def test_order_with_no_buyer_is_refused():
    refused(lambda: OrderFactory(customer=None))


def test_order_with_one_buyer_is_accepted():
    OrderFactory()
    OrderFactory(customer=None, partner=PartnerFactory())
    assert Order.objects.count() == 2


def test_idempotency_key_is_unique_per_partner():
    partner = PartnerFactory()
    OrderFactory(customer=None, partner=partner, idempotency_key="k-1")

    refused(lambda: OrderFactory(customer=None, partner=partner, idempotency_key="k-1"))
    # The same key from another partner is a different request.
    OrderFactory(customer=None, partner=PartnerFactory(), idempotency_key="k-1")


def test_blank_idempotency_keys_may_repeat():
    partner = PartnerFactory()
    OrderFactory(customer=None, partner=partner, idempotency_key="")
    OrderFactory(customer=None, partner=partner, idempotency_key="")

    assert Order.objects.filter(partner=partner).count() == 2


# --- Webhook events --------------------------------------------------------------------------


def test_webhook_event_is_recorded_once_per_source():
    def event(source):
        return WebhookEvent.objects.create(
            source=source, event_id="evt_1", event_type="checkout.session.completed", payload={}
        )

    event(WebhookEvent.Source.STRIPE)
    refused(lambda: event(WebhookEvent.Source.STRIPE))
    event(WebhookEvent.Source.TEST)  # another source may reuse the id


# --- Wallet ----------------------------------------------------------------------------------


def test_zero_wallet_entry_is_refused():
    refused(lambda: WalletEntryFactory(amount=Decimal("0")))


def test_order_is_debited_once():
    partner = PartnerFactory()
    order = OrderFactory(customer=None, partner=partner)

    def entry(kind, amount):
        return WalletEntryFactory(partner=partner, order=order, kind=kind, amount=Decimal(amount))

    entry("order_debit", "-599")
    refused(lambda: entry("order_debit", "-599"))
    entry("order_credit", "599")
    refused(lambda: entry("order_credit", "599"))
    # Other kinds of entry about the same order are not limited.
    entry("adjustment", "10")
    entry("adjustment", "10")


# --- Replacement tickets ---------------------------------------------------------------------


@pytest.mark.parametrize("open_status", ["submitted", "approved"])
def test_only_one_open_replacement_per_sim(open_status):
    sim = SimFactory()
    ReplacementTicketFactory(sim=sim, status=open_status)

    refused(lambda: ReplacementTicketFactory(sim=sim))


@pytest.mark.parametrize("closed_status", ["rejected", "cancelled", "issued"])
def test_new_replacement_allowed_after_the_first_is_closed(closed_status):
    sim = SimFactory()
    first = ReplacementTicketFactory(sim=sim)
    ReplacementTicket.objects.filter(pk=first.pk).update(status=closed_status)

    ReplacementTicketFactory(sim=sim)

    assert sim.replacement_tickets.count() == 2


# --- Catalog ---------------------------------------------------------------------------------


def test_unlimited_plan_with_a_data_cap_is_refused():
    refused(lambda: PlanFactory(data_unlimited=True, data_mb=1024))
    PlanFactory(data_unlimited=True, data_mb=None)


def promotion(**kwargs):
    values = {"code": "SPRING", "starts_at": timezone.now(), "percent_off": Decimal("10")}
    values.update(kwargs)
    return Promotion.objects.create(**values)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"amount_off": Decimal("100"), "amount_currency": "PKR"}, id="both"),
        pytest.param({"percent_off": None}, id="neither"),
        pytest.param({"percent_off": None, "amount_off": Decimal("100")}, id="amount-no-currency"),
        pytest.param(
            {"ends_at": LAST_DAY_LATE_EVENING - timedelta(days=1)},  # the clock tests start at
            id="ends-before-start",
        ),
    ],
)
def test_bad_promotions_are_refused(kwargs):
    refused(lambda: promotion(**kwargs))


def test_good_promotions_are_accepted():
    promotion(code="pct", ends_at=timezone.now() + timedelta(days=30))
    promotion(code="amt", percent_off=None, amount_off=Decimal("100"), amount_currency="PKR")

    assert Promotion.objects.count() == 2


def test_one_tier_wide_price_rule_per_tier():
    PartnerPriceRule.objects.create(tier="gold", discount_percent=Decimal("10"))

    refused(lambda: PartnerPriceRule.objects.create(tier="gold", discount_percent=Decimal("5")))
    PartnerPriceRule.objects.create(tier="silver", discount_percent=Decimal("5"))
    PartnerPriceRule.objects.create(
        tier="gold", operator=OperatorFactory(), discount_percent=Decimal("12")
    )


def test_price_rule_for_both_operator_and_plan_is_refused():
    plan = PlanFactory()

    refused(
        lambda: PartnerPriceRule.objects.create(
            tier="gold", operator=plan.operator, plan=plan, discount_percent=Decimal("10")
        )
    )


@pytest.mark.parametrize(
    ("total", "remaining"),
    [pytest.param(1024, 1025, id="above-total"), pytest.param(None, 10, id="no-total")],
)
def test_sim_remaining_data_within_total(total, remaining):
    refused(lambda: SimFactory(data_total_mb=total, data_remaining_mb=remaining))


def test_sim_remaining_data_at_total_is_accepted():
    SimFactory(data_total_mb=1024, data_remaining_mb=1024)
    SimFactory(data_total_mb=None, data_remaining_mb=None)


# --- Append-only tables ----------------------------------------------------------------------


def audit_entry():
    return record(action="test.thing", target=CustomerFactory(), note="original")


@pytest.mark.parametrize(
    ("make", "text_field"),
    [
        pytest.param(audit_entry, "note", id="audit"),
        pytest.param(WalletEntryFactory, "reason", id="wallet"),
    ],
)
def test_append_only_rows_cannot_be_saved_again(make, text_field):
    row = make()
    model = type(row)
    original = getattr(row, text_field)
    setattr(row, text_field, "changed")

    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        model.objects.get(pk=row.pk).save(update_fields=[text_field])

    assert getattr(model.objects.get(pk=row.pk), text_field) == original


@pytest.mark.parametrize(
    "make", [pytest.param(audit_entry, id="audit"), pytest.param(WalletEntryFactory, id="wallet")]
)
def test_append_only_rows_cannot_be_deleted(make):
    row = make()
    model = type(row)

    with pytest.raises(AppendOnlyError):
        row.delete()

    assert model.objects.filter(pk=row.pk).exists()


def test_new_audit_entries_can_be_written():
    audit_entry()
    audit_entry()

    assert AuditEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("iccid", "8992000000000000001"), ("iccid", "12345"), ("msisdn", "03001234567")],
)
def test_sim_refuses_a_malformed_iccid_or_msisdn_on_save(field, value):
    sim = SimFactory()
    setattr(sim, field, value)
    with pytest.raises(ValidationError):
        sim.save()
    sim.refresh_from_db()
    assert getattr(sim, field) != value
