"""Auto-renew through Stripe (HTTP faked by ``responses``): setup session, off-session charge."""

from datetime import timedelta

import pytest
import responses
import time_machine
from django.core import mail
from responses import matchers

from core import signing
from core.money import to_minor_units
from orders.models import AutoRenewalCharge, Order, SavedPaymentMethod
from orders.models.notifications import Notification
from orders.services.autorenew.cards import enable_auto_renew, start_card_setup
from orders.services.autorenew.charges import run_auto_renewals
from orders.services.payment_events import receive_webhook
from plans.models import PlanKind
from tests.orders.conftest import plan_of
from tests.orders.test_stripe_gateway import API, SECRET, SESSIONS, form_has

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("evening_before_new_year"),
    pytest.mark.usefixtures("stripe_keys"),
]
INTENTS = f"{API}/payment_intents"


def setup_session(status="complete", intent_status="succeeded"):
    return {
        "id": "cs_setup_1",
        "object": "checkout.session",
        "mode": "setup",
        "status": status,
        "url": "https://checkout.stripe.com/c/pay/cs_setup_1",
        "customer": "cus_1",
        "setup_intent": {
            "id": "seti_1",
            "object": "setup_intent",
            "status": intent_status,
            "payment_method": {
                "id": "pm_1",
                "object": "payment_method",
                "card": {"brand": "visa", "last4": "4242"},
            },
        },
    }


@responses.activate
def test_saving_a_card_creates_a_customer_and_a_setup_session_then_reads_it_back(
    customer, django_capture_on_commit_callbacks
):
    responses.post(
        f"{API}/customers",
        json={"id": "cus_1", "object": "customer"},
        match=[
            matchers.header_matcher({"Idempotency-Key": f"customer-{customer.pk}"}),
            form_has({"email": customer.email}),
        ],
    )
    created = responses.post(
        SESSIONS,
        json=setup_session(status="open"),
        match=[
            form_has(
                {
                    "mode": "setup",
                    "customer": "cus_1",
                    "payment_method_types[0]": "card",
                    "success_url": "https://paksim.example/back",
                }
            )
        ],
    )
    method, url = start_card_setup(
        customer=customer, gateway="stripe", return_url="https://paksim.example/back"
    )
    assert url == "https://checkout.stripe.com/c/pay/cs_setup_1"
    assert (method.setup_reference, method.customer_reference) == ("cs_setup_1", "cus_1")
    key = created.calls[0].request.headers["Idempotency-Key"]
    assert key == f"card-setup-{method.setup_token}"

    responses.get(
        f"{SESSIONS}/cs_setup_1",
        json=setup_session(),
        match=[matchers.query_param_matcher({"expand[0]": "setup_intent.payment_method"})],
    )
    # The event says little; the session is re-read from Stripe.
    body = (
        b'{"id": "evt_s1", "type": "checkout.session.completed", "data": {"object": '
        b'{"id": "cs_setup_1", "object": "checkout.session", "mode": "setup"}}}'
    )
    with django_capture_on_commit_callbacks(execute=True):
        receive_webhook(
            source="stripe", body=body, headers={"Stripe-Signature": signing.sign(body, SECRET)}
        )
    method.refresh_from_db()
    assert (method.payment_method_reference, method.label) == ("pm_1", "Visa •••• 4242")
    assert method.usable


@pytest.fixture
def stripe_renewal(bought_sim, customer):
    card = SavedPaymentMethod.objects.create(
        customer=customer,
        gateway="stripe",
        customer_reference="cus_1",
        payment_method_reference="pm_1",
        label="Visa •••• 4242",
    )
    bought_sim.expires_at = bought_sim.expires_at or bought_sim.created_at + timedelta(days=7)
    bought_sim.save(update_fields=["expires_at"])
    return enable_auto_renew(
        sim=bought_sim, plan=plan_of(PlanKind.RENEWAL), payment_method=card, currency="PKR"
    )


def charge_at_lead_time(renewal, capture):
    lead = renewal.sim.expires_at - timedelta(hours=23)
    with time_machine.travel(lead, tick=False), capture(execute=True):
        run_auto_renewals()
    return AutoRenewalCharge.objects.get()


def expected_charge_form(renewal):
    amount = to_minor_units(renewal.plan.prices.get(currency="PKR").amount, "PKR")
    return {
        "amount": str(amount),
        "currency": "pkr",
        "customer": "cus_1",
        "payment_method": "pm_1",
        "off_session": "true",
        "confirm": "true",
    }


@responses.activate
def test_off_session_payment_intent_request_shape_and_success(
    stripe_renewal, django_capture_on_commit_callbacks
):
    old_expiry = stripe_renewal.sim.expires_at
    created = responses.post(
        INTENTS,
        json={"id": "pi_auto_1", "object": "payment_intent", "status": "succeeded"},
        match=[form_has(expected_charge_form(stripe_renewal))],
    )
    charge = charge_at_lead_time(stripe_renewal, django_capture_on_commit_callbacks)

    assert created.call_count == 1
    headers = created.calls[0].request.headers
    assert headers["Idempotency-Key"] == f"autorenew-{charge.pk}-1"
    assert headers["Authorization"] == "Bearer sk_test_x"
    assert charge.status == "succeeded"
    payment = charge.order.payments.get()
    assert (payment.gateway, payment.external_reference, payment.status) == (
        "stripe",
        "pi_auto_1",
        "succeeded",
    )
    assert charge.order.status == Order.Status.FULFILLED
    stripe_renewal.sim.refresh_from_db()
    assert stripe_renewal.sim.expires_at > old_expiry


@pytest.mark.parametrize("code", ["card_declined", "authentication_required"])
@responses.activate
def test_a_declined_or_authentication_required_charge_fails_and_notifies(
    code, stripe_renewal, django_capture_on_commit_callbacks
):
    responses.post(
        INTENTS,
        status=402,
        json={
            "error": {
                "type": "card_error",
                "code": code,
                "message": "Your card was declined.",
                "payment_intent": {
                    "id": "pi_auto_2",
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                },
            }
        },
    )
    mail.outbox.clear()
    charge = charge_at_lead_time(stripe_renewal, django_capture_on_commit_callbacks)

    assert (charge.status, charge.attempts, charge.last_error) == ("failed", 1, code)
    payment = charge.order.payments.get()
    assert (payment.status, payment.external_reference) == ("failed", "pi_auto_2")
    assert Notification.objects.filter(kind="auto_renew_failed").count() == 1
    assert len(mail.outbox) == 1


@responses.activate
def test_a_stripe_outage_leaves_the_charge_pending_and_resends_the_same_key(
    stripe_renewal, django_capture_on_commit_callbacks
):
    error = {"error": {"type": "api_error", "message": "Try again"}}
    responses.post(INTENTS, status=500, json=error)
    charge = charge_at_lead_time(stripe_renewal, django_capture_on_commit_callbacks)
    assert (charge.status, charge.attempts) == ("pending", 1)

    responses.replace(
        responses.POST,
        INTENTS,
        json={"id": "pi_auto_3", "object": "payment_intent", "status": "succeeded"},
    )
    later = stripe_renewal.sim.expires_at - timedelta(hours=22)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert run_auto_renewals()["retried"] == 1
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == ("succeeded", 1)
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert keys == {f"autorenew-{charge.pk}-1"}
    assert charge.order.payments.get().status == "succeeded"
