"""JazzCash end to end against its built-in fake, through the real entry points: the hand-off
page, the fake's checkout and phone pages, the return URL, the IPN endpoint, the reconciler."""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import TestCase
from django.utils import timezone

from orders.models import FakeWalletTransaction, Order, Payment, Refund, WebhookEvent
from orders.payments import jazzcash_contract as contract
from orders.payments.fakes import jazzcash as fake
from orders.services.local_wallets import charge_mobile_account, reconcile_wallet_payments
from orders.services.payments import start_payment
from orders.services.refunds import awaiting_staff, mark_refund_sent_by_staff, refund_order
from tests.payments.jazzcash_world import posted_form, unpaid_order

pytestmark = pytest.mark.django_db

NUMBER = "03001234567"


@pytest.fixture(autouse=True)
def fake_mode(settings, world_catalog):
    settings.LOCAL_WALLETS = {"jazzcash": "fake"}


@pytest.fixture
def run_after_commit(django_capture_on_commit_callbacks):
    """Run what a block queues after commit (the fake's IPN, the tasks it triggers)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dropped_callbacks(monkeypatch):
    """The fake's IPNs never arrive."""
    dropped = []
    monkeypatch.setattr(fake, "deliver_ipn", dropped.append)
    return dropped


def hosted_checkout(client, order=None):
    """Start a hosted payment and post its signed form to the fake's checkout page."""
    order = order or unpaid_order()
    payment, started = start_payment(order=order, gateway_key="jazzcash", method="jazzcash")
    client.force_login(order.customer)
    action, fields = posted_form(client.get(started.redirect_url))
    assert action.endswith("/pay/fake/jazzcash/checkout/")
    page = client.post(urlsplit(action).path, fields)
    return payment, page


def direct_charge(order=None) -> Payment:
    order = order or unpaid_order()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the charge task, sent after commit
        payment, _ = start_payment(
            order=order, gateway_key="jazzcash", method="jazzcash_mobile", payer_account=NUMBER
        )
    payment.refresh_from_db()
    return payment


def on_phone(client, payment, action="approve"):
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    return client.post(
        "/pay/fake/jazzcash/phone/", {"number": NUMBER, "txn": txn.transaction_id, "action": action}
    )


def ipn(client, fields: dict):
    return client.post(
        "/webhooks/wallets/jazzcash/", json.dumps(fields), content_type="application/json"
    )


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()


def test_hosted_pay_return_and_ipn_pay_and_provision_the_order(client, run_after_commit):
    payment, page = hosted_checkout(client)
    order = payment.order
    text = page.content.decode()
    assert page.status_code == 200 and "MC_FAKE" in text and order.number in text
    assert '<button name="action" value="pay">' in text
    assert '<button name="action" value="decline">' in text
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    assert txn.amount_minor == int(order.total * 100)

    with run_after_commit():
        back = client.post(f"/pay/fake/jazzcash/checkout/{txn.transaction_id}/", {"action": "pay"})
    return_url, fields = posted_form(back)
    assert urlsplit(return_url).path == "/pay/jazzcash/return/"
    with run_after_commit():
        returned = client.post(urlsplit(return_url).path, fields)

    assert returned.status_code == 302 and order.number in returned["Location"]
    refreshed(payment, order)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_reference == txn.transaction_id
    assert order.status == Order.Status.FULFILLED and order.issued_sims.count() == 1
    # The IPN and the return say the same: one event.
    assert WebhookEvent.objects.filter(source="jazzcash").count() == 1


def test_a_declined_hosted_payment_fails_and_the_order_can_be_paid_again(client, run_after_commit):
    payment, _ = hosted_checkout(client)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    with run_after_commit():
        client.post(f"/pay/fake/jazzcash/checkout/{txn.transaction_id}/", {"action": "decline"})
    refreshed(payment)
    assert payment.status == Payment.Status.FAILED
    assert payment.gateway_status.startswith("112")
    again = direct_charge(payment.order)
    assert again.status == Payment.Status.PENDING


def test_direct_charge_approved_on_the_phone_pays_the_order(client, run_after_commit):
    payment = direct_charge()
    assert payment.status == Payment.Status.PENDING and payment.gateway_status.startswith("157")
    phone = client.get("/pay/fake/jazzcash/phone/", {"number": NUMBER})
    text = phone.content.decode()
    assert "MC_FAKE" in text and f"{payment.amount:.2f}" in text
    assert '<button name="action" value="approve">' in text

    with run_after_commit():
        on_phone(client, payment)

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.order.status == Order.Status.FULFILLED
    assert payment.order.issued_sims.count() == 1
    assert (
        payment.external_reference
        not in client.get("/pay/fake/jazzcash/phone/", {"number": NUMBER}).content.decode()
    )


def test_a_second_charge_under_the_same_reference_is_pending_not_failed():
    payment = direct_charge()
    Payment.objects.filter(pk=payment.pk).update(gateway_status="")
    charge_mobile_account(payment_id=payment.pk)
    refreshed(payment)
    assert payment.status == Payment.Status.PENDING
    assert payment.gateway_status.startswith(contract.DUPLICATE_REFERENCE)
    assert FakeWalletTransaction.objects.filter(reference=payment.external_reference).count() == 1


def test_a_duplicate_ipn_makes_one_payment_and_one_sim(client, run_after_commit, dropped_callbacks):
    payment = direct_charge()
    with run_after_commit():
        on_phone(client, payment)
    (fields,) = dropped_callbacks
    with run_after_commit():
        first = ipn(client, fields)
    with run_after_commit():
        second = ipn(client, fields)

    assert first.status_code == second.status_code == 200
    assert contract.hash_is_valid(json.loads(second.content), fake.credentials().salt)
    refreshed(payment)
    assert payment.order.payments.filter(status=Payment.Status.SUCCEEDED).count() == 1
    assert payment.order.issued_sims.count() == 1
    assert WebhookEvent.objects.filter(source="jazzcash").count() == 1


def test_a_forged_ipn_is_refused_and_changes_nothing(client, run_after_commit, dropped_callbacks):
    payment = direct_charge()
    with run_after_commit():
        on_phone(client, payment, action="decline")
    (fields,) = dropped_callbacks
    forged = {**fields, "pp_ResponseCode": "000"}  # the hash no longer matches
    with run_after_commit():
        response = ipn(client, forged)
    assert response.status_code == 400
    refreshed(payment)
    assert payment.status == Payment.Status.PENDING
    assert not WebhookEvent.objects.exists()


def test_an_amount_re_signed_without_the_salt_is_refused(
    client, run_after_commit, dropped_callbacks
):
    payment = direct_charge()
    with run_after_commit():
        on_phone(client, payment)
    (fields,) = dropped_callbacks
    tampered = contract.signed({**fields, "pp_Amount": "100"}, "a-guessed-salt")
    assert ipn(client, tampered).status_code == 400
    assert not WebhookEvent.objects.exists()
    refreshed(payment)
    assert payment.status == Payment.Status.PENDING


def test_a_signed_ipn_whose_inquiry_reports_another_amount_is_not_credited(
    client, run_after_commit
):
    payment = direct_charge()
    # The wallet's books say the customer paid one rupee.
    FakeWalletTransaction.objects.filter(reference=payment.external_reference).update(
        amount_minor=100
    )
    with run_after_commit():
        on_phone(client, payment)

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.AWAITING_PAYMENT
    event = WebhookEvent.objects.get(source="jazzcash")
    assert event.outcome == WebhookEvent.Outcome.FAILED
    assert "paid PKR 1.00, expected PKR" in event.error


def test_a_callback_dropped_is_settled_by_the_reconciler(
    client, time_machine, run_after_commit, dropped_callbacks
):
    payment = direct_charge()
    with run_after_commit():
        on_phone(client, payment)
    assert dropped_callbacks
    refreshed(payment)
    assert payment.status == Payment.Status.PENDING

    time_machine.move_to(timezone.now() + timedelta(minutes=3), tick=True)
    counts = reconcile_wallet_payments()

    assert counts == {"paid": 1}
    refreshed(payment)
    assert payment.status == Payment.Status.SUCCEEDED


def test_an_expired_attempt_is_cancelled_and_the_order_is_payable_again(client, time_machine):
    payment, _ = hosted_checkout(client)
    time_machine.move_to(timezone.now() + timedelta(minutes=33), tick=True)

    assert reconcile_wallet_payments() == {"expired": 1}

    refreshed(payment, payment.order)
    assert payment.status == Payment.Status.CANCELLED
    assert payment.order.status == Order.Status.PAYMENT_FAILED
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    assert txn.status == FakeWalletTransaction.Status.EXPIRED
    assert direct_charge(payment.order).status == Payment.Status.PENDING


def test_paying_after_expiry_is_refused_and_the_late_return_cancels(
    client, time_machine, run_after_commit
):
    payment, _ = hosted_checkout(client)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    time_machine.move_to(timezone.now() + timedelta(minutes=31), tick=True)

    with run_after_commit():
        back = client.post(f"/pay/fake/jazzcash/checkout/{txn.transaction_id}/", {"action": "pay"})
    return_url, fields = posted_form(back)
    assert fields["pp_ResponseCode"] == contract.EXPIRED
    with run_after_commit():
        client.post(urlsplit(return_url).path, fields)

    refreshed(payment, txn)
    assert txn.status == FakeWalletTransaction.Status.EXPIRED
    assert payment.status == Payment.Status.CANCELLED
    assert not payment.order.issued_sims.exists()


def test_a_late_ipn_for_a_superseded_attempt_still_records_the_money(client, run_after_commit):
    old = direct_charge()
    new, _ = start_payment(order=old.order, gateway_key="jazzcash", method="jazzcash")
    refreshed(old)
    assert old.status == Payment.Status.CANCELLED

    with run_after_commit():
        on_phone(client, old)  # the customer approves the old request after all

    refreshed(old, new, old.order)
    assert old.status == Payment.Status.SUCCEEDED
    assert new.status == Payment.Status.CANCELLED
    assert old.order.status == Order.Status.FULFILLED and old.order.issued_sims.count() == 1


def test_a_wallet_payment_is_refunded_through_the_fakes_api(client, run_after_commit):
    payment = direct_charge()
    with run_after_commit():
        on_phone(client, payment)

    with run_after_commit():
        refund = refund_order(order=payment.order, reason="customer asked")

    assert refund.status == Refund.Status.SUCCEEDED
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    assert txn.status == FakeWalletTransaction.Status.REFUNDED
    assert txn.refunded_minor == txn.amount_minor


def test_a_hosted_payment_is_left_for_staff_to_refund(client, run_after_commit):
    payment, _ = hosted_checkout(client)
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    with run_after_commit():
        client.post(f"/pay/fake/jazzcash/checkout/{txn.transaction_id}/", {"action": "pay"})
    with run_after_commit():
        refund = refund_order(order=payment.order)
    assert refund.status == Refund.Status.PENDING
    assert refund.external_reference.startswith("jazzcash-staff-")
    txn.refresh_from_db()
    assert txn.refunded_minor == 0
    assert list(awaiting_staff()) == [refund]  # a problem on the order list until sent

    assert mark_refund_sent_by_staff(refund=refund, actor=None)
    refreshed(refund, payment, payment.order)
    assert refund.status == Refund.Status.SUCCEEDED and payment.status == Payment.Status.REFUNDED
    assert payment.order.status == Order.Status.REFUNDED and not awaiting_staff().exists()


def test_the_fake_refuses_a_tampered_checkout_form(client):
    order = unpaid_order()
    _, started = start_payment(order=order, gateway_key="jazzcash", method="jazzcash")
    client.force_login(order.customer)
    _, fields = posted_form(client.get(started.redirect_url))
    refused = client.post("/pay/fake/jazzcash/checkout/", {**fields, "pp_Amount": "100"})
    assert refused.status_code == 400 and contract.INVALID_HASH in refused.content.decode()
    assert not FakeWalletTransaction.objects.exists()


def test_the_fakes_api_refuses_wrong_credentials_and_hashes():
    body = {"pp_TxnRefNo": "T1", "pp_MerchantID": "MC_FAKE", "pp_Password": "wrong"}
    url = "https://x/pay/fake/jazzcash" + contract.INQUIRY_PATH
    salt = fake.credentials().salt
    assert fake.handle(url, contract.signed(body, salt), {})["pp_ResponseCode"] == "101"
    assert fake.handle(url, contract.signed(body, "x"), {})["pp_ResponseCode"] == "115"


def test_the_fake_pages_exist_only_in_fake_mode(client, settings):
    settings.LOCAL_WALLETS = {"jazzcash": "live"}
    assert client.get("/pay/fake/jazzcash/phone/", {"number": NUMBER}).status_code == 404
    assert client.post("/pay/fake/jazzcash/checkout/", {}).status_code == 404


def test_a_superseded_attempt_paid_on_the_phone_is_found_without_its_callback(
    client, time_machine, run_after_commit, dropped_callbacks
):
    old = direct_charge()
    start_payment(order=old.order, gateway_key="jazzcash", method="jazzcash")
    refreshed(old)
    assert old.status == Payment.Status.CANCELLED  # the customer chose another way to pay
    with run_after_commit():
        on_phone(client, old)  # … but approved the first request on the phone all the same
    assert dropped_callbacks

    time_machine.move_to(timezone.now() + timedelta(minutes=3), tick=True)
    with run_after_commit():
        counts = reconcile_wallet_payments()

    assert counts.get("paid") == 1
    refreshed(old, old.order)
    assert old.status == Payment.Status.SUCCEEDED
    assert old.order.paid_at is not None and old.order.issued_sims.count() == 1
    time_machine.move_to(timezone.now() + timedelta(minutes=40), tick=True)
    assert "paid" not in reconcile_wallet_payments()  # past its expiry it is not asked again
