"""Which changes send which webhook events: orders, replacements, the wallet, SIM sweeps."""

from decimal import Decimal

import pytest
import responses

from accounts.models import User
from orders.models import Order, WalletEntry
from orders.models.partner_webhooks import WebhookDelivery, WebhookEndpoint
from orders.partner_webhooks import services as webhooks
from orders.services.lifecycle import mark_order_paid
from orders.services.placing import place_purchase
from orders.services.replacement import approve_replacement, reject_replacement
from orders.services.wallet import adjust_wallet
from plans.models import PlanPrice, Provider
from tests.factories import IdentityCheckFactory, ReplacementTicketFactory, SimFactory
from tests.worlds import build_customer

pytestmark = pytest.mark.django_db
HOOK_URL = "https://hooks.partner.example/paksim"


@pytest.fixture
def endpoint(api_partner):
    return WebhookEndpoint.objects.create(partner=api_partner, url=HOOK_URL)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(HOOK_URL, status=200)
        yield mock


def sent(event_type: str) -> list[dict]:
    deliveries = WebhookDelivery.objects.filter(event_type=event_type).order_by("id")
    return [delivery.payload["data"] for delivery in deliveries]


def test_failed_partner_order_sends_order_failed(
    endpoint, http, api_partner, plan_by_sku, django_capture_on_commit_callbacks
):
    Provider.objects.filter(adapter="sandbox").update(
        settings={"fail": "permanent", "fail_times": 99}
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = place_purchase(plan=plan_by_sku("jazz-esim-week-10gb"), partner=api_partner)
    order.refresh_from_db()
    assert order.status == Order.Status.NEEDS_ATTENTION
    assert sent("order.failed") == [
        {
            "order": order.number,
            "kind": "purchase",
            "status": "needs_attention",
            "customer_reference": "",
        }
    ]
    assert sent("order.fulfilled") == [] and len(http.calls) == 1


def test_customer_orders_send_nothing(endpoint, plan_by_sku, django_capture_on_commit_callbacks):
    customer = build_customer()
    plan = plan_by_sku("jazz-esim-week-10gb")
    order = place_purchase(plan=plan, customer=customer, currency="PKR")
    with django_capture_on_commit_callbacks(execute=True):
        mark_order_paid(order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert not WebhookDelivery.objects.exists()


@pytest.fixture
def ticket(api_partner, partner_sim):
    check = IdentityCheckFactory(customer=None, partner=api_partner)
    return ReplacementTicketFactory(
        sim=partner_sim, requested_by=None, partner=api_partner, identity_check=check
    )


@pytest.fixture
def reviewer():
    return User.objects.create_superuser(email="reviewer@paksim.example", password="x")


def test_replacement_decisions_for_partner_sims(endpoint, ticket, reviewer, partner_sim):
    # A fee, so approval debits the wallet (a free one cannot be approved for partners yet:
    # see the xfail in tests/api/test_replacements_api.py).
    PlanPrice.objects.filter(plan__provider_sku="jazz-replacement").update(amount=300)
    reject_replacement(ticket=ticket, reviewer=reviewer, reason="unreadable")
    assert sent("replacement.rejected") == [
        {"replacement": ticket.pk, "sim": partner_sim.iccid, "status": "rejected"}
    ]
    second = ReplacementTicketFactory(
        sim=partner_sim,
        requested_by=None,
        partner=ticket.partner,
        identity_check=IdentityCheckFactory(customer=None, partner=ticket.partner),
    )
    approve_replacement(ticket=second, reviewer=reviewer)
    assert sent("replacement.approved") == [
        {"replacement": second.pk, "sim": partner_sim.iccid, "status": "approved"}
    ]


def test_customer_replacements_send_nothing(endpoint, reviewer):
    ticket = ReplacementTicketFactory()
    reject_replacement(ticket=ticket, reviewer=reviewer, reason="unreadable")
    assert not WebhookDelivery.objects.exists()


def balance(partner) -> Decimal:
    return WalletEntry.balance_of(partner)


def test_low_balance_is_sent_once_per_crossing(endpoint, api_partner):
    threshold = api_partner.low_balance_threshold  # 5,000 of a 50,000 opening balance
    debit = lambda amount: adjust_wallet(  # noqa: E731
        partner=api_partner, amount=Decimal(amount), reason="test", actor=None
    )
    debit(-(balance(api_partner) - threshold))  # lands exactly on the threshold: not below
    assert sent("wallet.low_balance") == []
    debit("-0.01")
    debit("-100")
    assert sent("wallet.low_balance") == [
        {"balance": "4999.99", "threshold": "5000.00", "currency": "PKR"}
    ]
    debit("20000")  # back above: the next crossing sends again
    debit("-15000")
    debit("-5000")
    debit("-1000")
    assert [data["balance"] for data in sent("wallet.low_balance")] == ["4999.99", "4899.99"]


def test_an_order_debit_can_cross_the_threshold(endpoint, api_partner, plan_by_sku):
    api_partner.low_balance_threshold = balance(api_partner) - 1
    api_partner.save(update_fields=["low_balance_threshold"])
    order = place_purchase(plan=plan_by_sku("jazz-esim-week-10gb"), partner=api_partner)
    assert [data["balance"] for data in sent("wallet.low_balance")] == [
        str(balance(api_partner).quantize(Decimal("0.01")))
    ]
    assert order.total > 1


def test_a_zero_threshold_sends_nothing(endpoint, api_partner):
    api_partner.low_balance_threshold = 0
    api_partner.save(update_fields=["low_balance_threshold"])
    adjust_wallet(partner=api_partner, amount=Decimal("-60000"), reason="test", actor=None)
    assert sent("wallet.low_balance") == []


@pytest.mark.parametrize("event_type", ["sim.low_data", "sim.expiring"])
def test_sim_events_for_the_sweeps(
    endpoint, http, partner_sim, event_type, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit_sim_event(sim=partner_sim, event_type=event_type)
        webhooks.emit_sim_event(sim=SimFactory(), event_type=event_type)  # a customer's SIM
    (data,) = sent(event_type)
    assert data["sim"] == partner_sim.iccid and data["status"] == "active"
    assert data["data_remaining_mb"] == 4096 and data["expires_at"].endswith("Z")
    assert len(http.calls) == 1
