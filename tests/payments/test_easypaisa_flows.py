"""Easypaisa as the built-in fake, through the site's real entry points: the hand-off page, the
fake's checkout, confirmation and phone pages, the browser's returns, the IPN listener and the
reconciler."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import TestCase
from django.utils import timezone

from orders.models import FakeWalletTransaction, Order, Payment, Refund, WebhookEvent
from orders.payments.easypaisa import merchant
from orders.payments.fakes import easypaisa as fake
from orders.services.lifecycle import cancel_order
from orders.services.local_wallets import reconcile_wallet_payments
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import PlanKind
from tests.orders.conftest import plan_of
from tests.worlds import build_customer

pytestmark = pytest.mark.django_db

IPN_URL = "/webhooks/wallets/easypaisa/"
NUMBER = "03001234567"


@pytest.fixture(autouse=True)
def fake_easypaisa(settings):
    settings.LOCAL_WALLETS = {"easypaisa": "fake"}
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def customer(world_catalog):
    return build_customer()


@pytest.fixture
def order(customer):
    return place_purchase(plan=plan_of(PlanKind.ESIM), customer=customer, currency="PKR")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call ``action`` and run what it queued after commit (IPNs, tasks)."""

    def _run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return _run


@pytest.fixture
def no_ipn(monkeypatch):
    """Easypay's notifications get lost."""
    monkeypatch.setattr(fake, "deliver_ipn", lambda txn: None)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def open_hosted_checkout(client, customer, order):
    """Start a hosted attempt and post its signed form to the fake's Index.jsf."""
    payment, started = start_payment(order=order, gateway_key="easypaisa", method="easypaisa")
    client.force_login(customer)
    handoff = client.get(started.redirect_url)
    form = handoff.context["form"]
    assert form.action == "http://testserver/pay/fake/easypaisa/Index.jsf"
    page = client.post(local(form.action), form.fields)
    assert page.status_code == 200
    return payment, page.context["txn"]


def ipn_url(reference: str) -> str:
    return merchant().ipn_url(reference)


def start_direct(order):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the charge task, sent after commit
        payment, _ = start_payment(
            order=order, gateway_key="easypaisa", method="easypaisa_mobile", payer_account=NUMBER
        )
    payment.refresh_from_db()
    return payment


def test_hosted_payment_through_three_hops_and_ipn_pays_and_provisions(
    client, customer, order, run
):
    payment, txn = open_hosted_checkout(client, customer, order)
    decided = run(
        client.post, f"/pay/fake/easypaisa/checkout/{txn.transaction_id}/", {"action": "pay"}
    )
    assert "auth_token=" in decided["Location"]
    confirm_page = client.get(local(decided["Location"]))
    form = confirm_page.context["form"]
    assert form.action == "http://testserver/pay/fake/easypaisa/Confirm.jsf"
    assert set(form.fields) == {"auth_token", "postBackURL"}
    confirmed = client.post(local(form.action), form.fields)
    assert "status=0000" in confirmed["Location"]
    back = run(client.get, local(confirmed["Location"]))
    assert back["Location"].startswith(f"/orders/{order.number}")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.issued_sims.count() == 1
    assert (payment.status, payment.gateway_reference) == ("succeeded", txn.transaction_id)
    assert payment.gateway_status.startswith("PAID")


def test_direct_charge_approved_on_the_phone_pays(client, order, run):
    payment = run(start_direct, order)
    assert payment.status == Payment.Status.PENDING
    assert payment.gateway_status.startswith("0001")
    phone = client.get("/pay/fake/easypaisa/phone/", {"number": NUMBER})
    assert payment.external_reference in phone.content.decode()
    txn = phone.context["requests"][0]["txn"]
    run(
        client.post,
        f"/pay/fake/easypaisa/phone/?number={NUMBER}",
        {"transaction": txn.transaction_id, "action": "approve"},
    )
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.FULFILLED
    assert (
        "No payment requests"
        in client.get("/pay/fake/easypaisa/phone/", {"number": NUMBER}).content.decode()
    )


def test_declined_on_the_phone_fails_the_payment(client, order, run):
    payment = run(start_direct, order)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    run(
        client.post,
        f"/pay/fake/easypaisa/phone/?number={NUMBER}",
        {"transaction": txn.transaction_id, "action": "decline"},
    )
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("failed", Order.Status.PAYMENT_FAILED)


def test_the_same_ipn_twice_pays_once(client, order, run, no_ipn):
    payment = run(start_direct, order)
    fake.record_outcome(
        FakeWalletTransaction.objects.get(reference=payment.external_reference), approved=True
    )
    url = ipn_url(payment.external_reference)
    first = run(client.get, IPN_URL, {"url": url})
    second = run(client.get, IPN_URL, {"url": url})
    assert (first.status_code, first.content) == (200, b"OK")
    assert second.status_code == 200
    assert WebhookEvent.objects.filter(source="easypaisa").count() == 1
    order.refresh_from_db()
    assert order.payments.filter(status="succeeded").count() == 1
    assert order.issued_sims.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/pay/fake/easypaisa/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "http://testserver.evil.example/pay/fake/easypaisa/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "http://testserver/pay/fake/easypaisa/easypay-service/rest/v1/order-status/999/{ref}",
        "http://testserver/elsewhere/order-status/{acct}/{ref}",
    ],
)
def test_ipn_naming_another_host_or_account_is_refused(client, order, run, no_ipn, url):
    payment = run(start_direct, order)
    fake.record_outcome(
        FakeWalletTransaction.objects.get(reference=payment.external_reference), approved=True
    )
    forged = url.format(acct=merchant().account_num, ref=payment.external_reference)
    response = run(client.get, IPN_URL, {"url": forged})
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_forged_successful_return_credits_nothing(client, customer, order, run):
    payment, _ = open_hosted_checkout(client, customer, order)
    query = {"status": "0000", "desc": "SUCCESS", "orderRefNumber": payment.external_reference}
    response = run(client.get, "/pay/easypaisa/return/", query)
    assert response.status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert order.status == Order.Status.AWAITING_PAYMENT
    event = WebhookEvent.objects.get(source="easypaisa")
    assert event.outcome == WebhookEvent.Outcome.IGNORED


def test_return_naming_no_attempt_of_ours_is_refused(client, order, run):
    query = {"status": "0000", "desc": "SUCCESS", "orderRefNumber": "T999999999999999999"}
    response = run(client.get, "/pay/easypaisa/return/", query)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_amount_the_wallet_reports_differently_is_not_credited(client, order, run, no_ipn):
    payment = run(start_direct, order)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    fake.record_outcome(txn, approved=True)
    FakeWalletTransaction.objects.filter(pk=txn.pk).update(amount_minor=txn.amount_minor - 100)
    run(client.get, IPN_URL, {"url": ipn_url(payment.external_reference)})
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    event = WebhookEvent.objects.get(source="easypaisa")
    assert event.outcome == WebhookEvent.Outcome.FAILED
    assert "expected PKR" in event.error


def test_late_ipn_after_cancel_records_the_money_and_a_staff_refund(client, customer, order, run):
    payment, txn = open_hosted_checkout(client, customer, order)
    cancel_order(order=order, reason="customer changed their mind")
    run(client.post, f"/pay/fake/easypaisa/checkout/{txn.transaction_id}/", {"action": "pay"})
    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert payment.status == Payment.Status.SUCCEEDED
    refund = Refund.objects.get(payment=payment)
    assert refund.status == Refund.Status.PENDING
    assert refund.external_reference.startswith("easypaisa-staff-")


def test_dropped_callback_is_settled_by_the_reconciler(client, order, run, no_ipn, settings):
    payment = run(start_direct, order)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    run(
        client.post,
        f"/pay/fake/easypaisa/phone/?number={NUMBER}",
        {"transaction": txn.transaction_id, "action": "approve"},
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not WebhookEvent.objects.exists()
    later = timezone.now() + timedelta(seconds=settings.WALLET_INQUIRY_AFTER_SECONDS + 1)
    counts = run(reconcile_wallet_payments, now=later)
    assert counts == {"paid": 1}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.FULFILLED


def test_the_ipns_order_status_resource_says_what_easypay_knows(client, order, run):
    payment = run(start_direct, order)
    url = urlsplit(ipn_url(payment.external_reference)).path
    answer = client.get(url).json()
    assert (answer["order_id"], answer["transaction_status"]) == (
        payment.external_reference,
        "PENDING",
    )
    assert answer["transaction_amount"] == f"{payment.amount:.2f}"
    assert client.get(url.replace(merchant().account_num, "999")).status_code == 404


def test_expired_attempt_is_cancelled_and_the_order_payable_again(
    client, customer, order, run, time_machine
):
    payment, txn = open_hosted_checkout(client, customer, order)
    time_machine.move_to(payment.expires_at + timedelta(minutes=3), tick=True)
    counts = run(reconcile_wallet_payments)
    assert counts == {"expired": 1}
    txn.refresh_from_db()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert txn.status == FakeWalletTransaction.Status.EXPIRED
    assert payment.status == Payment.Status.CANCELLED
    assert order.status == Order.Status.PAYMENT_FAILED
    again, _ = start_payment(order=order, gateway_key="easypaisa", method="easypaisa")
    assert again.status == Payment.Status.PENDING
    late = client.post(f"/pay/fake/easypaisa/checkout/{txn.transaction_id}/", {"action": "pay"})
    assert late.status_code == 302
    txn.refresh_from_db()
    assert txn.status == FakeWalletTransaction.Status.EXPIRED


def test_tampered_amount_is_refused_by_the_fake_checkout(client, customer, order):
    _, started = start_payment(order=order, gateway_key="easypaisa", method="easypaisa")
    client.force_login(customer)
    form = client.get(started.redirect_url).context["form"]
    tampered = {**form.fields, "amount": "1.0"}
    response = client.post(local(form.action), tampered)
    assert response.status_code == 400
    assert not FakeWalletTransaction.objects.exists()


def test_fake_pages_are_not_found_unless_easypaisa_is_fake(client, settings):
    settings.LOCAL_WALLETS = {"easypaisa": "live"}
    assert client.get("/pay/fake/easypaisa/phone/", {"number": NUMBER}).status_code == 404
    assert client.post("/pay/fake/easypaisa/Index.jsf", {}).status_code == 404
