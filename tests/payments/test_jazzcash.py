"""The live JazzCash adapter against the contract's request/response shapes (HTTP faked by
``responses``): the secure hash, the hosted form, MWALLET answers, inquiry mapping, forged
answers and refunds."""

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import responses
from django.test import TestCase
from django.utils import timezone

from orders.models import Order, Payment, Refund
from orders.payments import get_gateway
from orders.payments import jazzcash_contract as contract
from orders.payments.base import GatewayError, MalformedEvent, SignatureError
from orders.services.errors import OrderError
from orders.services.payments import start_payment
from orders.services.refunds import refund_order
from tests.payments.jazzcash_world import posted_form, unpaid_order

pytestmark = pytest.mark.django_db

BASE = "https://sandbox.jazzcash.com.pk"
SALT = "live-salt-01"
MWALLET_URL = BASE + contract.MWALLET_PATH
INQUIRY_URL = BASE + contract.INQUIRY_PATH
REFUND_URL = BASE + contract.REFUND_PATH


@pytest.fixture(autouse=True)
def live(settings, world_catalog):
    settings.LOCAL_WALLETS = {"jazzcash": "live"}
    settings.JAZZCASH_MERCHANT_ID = "MC12345"
    settings.JAZZCASH_PASSWORD = "pw987"
    settings.JAZZCASH_INTEGRITY_SALT = SALT
    settings.JAZZCASH_MPIN = "4321"
    settings.JAZZCASH_BASE_URL = BASE
    settings.SITE_URL = "https://portal.example.pk"


def signed(**fields) -> dict:
    return contract.signed({k: str(v) for k, v in fields.items()}, SALT)


def request_body(call) -> dict:
    return json.loads(call.request.body)


def direct_payment(mwallet_answer: dict | None = None, status: int = 200) -> Payment:
    """A direct charge of 03001234567, JazzCash answering ``mwallet_answer``."""
    order = unpaid_order()
    with responses.RequestsMock() as rsps:
        rsps.post(MWALLET_URL, json=mwallet_answer or {}, status=status)
        with TestCase.captureOnCommitCallbacks(execute=True):  # the charge task
            payment, _ = start_payment(
                order=order,
                gateway_key="jazzcash",
                method="jazzcash_mobile",
                payer_account="0300 1234567",
            )
        sent = request_body(rsps.calls[0])
    payment.refresh_from_db()
    payment.sent = sent
    return payment


def mwallet_answer(code: str, amount: str = "", **extra) -> dict:
    return signed(
        pp_ResponseCode=code,
        pp_ResponseMessage="message",
        pp_MerchantID="MC12345",
        pp_TxnRefNo="any",
        pp_Amount=amount,
        pp_TxnCurrency="PKR",
        pp_RetreivalReferenceNo="240101000001",
        **extra,
    )


def test_the_secure_hash_matches_the_contracts_vector():
    fields = {
        "pp_Version": "1.1",
        "pp_TxnType": "MWALLET",
        "pp_Language": "EN",
        "pp_MerchantID": "MC12345",
        "pp_SubMerchantID": "",
        "pp_Password": "pw987",
        "pp_BankID": "",
        "pp_TxnRefNo": "T20240101120000",
        "pp_Amount": "20000",
        "pp_TxnCurrency": "PKR",
        "pp_TxnDateTime": "20240101120000",
        "pp_BillReference": "billRef",
        "pp_Description": "Description",
        "ppmpf_1": "extra",
        "ppmpf_2": "",
        "other": "not hashed",
        "pp_SecureHash": "not hashed either",
    }
    expected = "71CEF1841D43177DB524D7E3ACC8A1E0767A73DCA921731DEDE0D377F9E3B8D5"
    assert contract.secure_hash(fields, "0123456789") == expected
    assert contract.hash_is_valid({**fields, "pp_SecureHash": expected.lower()}, "0123456789")
    assert not contract.hash_is_valid({**fields, "pp_SecureHash": expected}, "other-salt")
    assert not contract.hash_is_valid({**fields, "pp_Amount": "20001"}, "0123456789")


def test_the_hosted_form_carries_every_contract_field_signed(client):
    order = unpaid_order()
    payment, started = start_payment(order=order, gateway_key="jazzcash", method="jazzcash")
    client.force_login(order.customer)

    action, fields = posted_form(client.get(started.redirect_url))

    assert action == BASE + "/CustomerPortal/transactionmanagement/merchantform/"
    created = timezone.localtime(payment.created_at, ZoneInfo("Asia/Karachi"))
    assert fields["pp_TxnDateTime"] == created.strftime("%Y%m%d%H%M%S")
    expiry = created + timedelta(minutes=30)
    assert fields["pp_TxnExpiryDateTime"] == expiry.strftime("%Y%m%d%H%M%S")
    assert fields["pp_TxnRefNo"] == payment.external_reference
    assert fields["pp_Amount"] == str(int(order.total * 100))
    assert fields["pp_BillReference"] == order.number
    assert fields["pp_ReturnURL"] == "https://portal.example.pk/pay/jazzcash/return/"
    assert fields["pp_MerchantID"] == "MC12345" and fields["pp_Password"] == "pw987"
    assert fields["pp_Version"] == "1.1" and fields["pp_TxnType"] == ""
    assert fields["pp_TxnCurrency"] == "PKR" and fields["ppmpf_5"] == ""
    assert contract.hash_is_valid(fields, SALT)


def test_a_direct_charge_sends_the_mwallet_request_and_records_a_paid_answer():
    order = unpaid_order()
    paisa = str(int(order.total * 100))
    with responses.RequestsMock() as rsps:
        rsps.post(MWALLET_URL, json=mwallet_answer("000", amount=paisa))
        with TestCase.captureOnCommitCallbacks(execute=True):  # the charge task
            payment, _ = start_payment(
                order=order,
                gateway_key="jazzcash",
                method="jazzcash_mobile",
                payer_account="03001234567",
            )
        sent = request_body(rsps.calls[0])
    payment.refresh_from_db()
    order.refresh_from_db()
    assert sent["pp_MobileNumber"] == "03001234567" and sent["pp_TxnType"] == "MWALLET"
    assert sent["pp_Amount"] == paisa and sent["pp_TxnRefNo"] == payment.external_reference
    assert contract.hash_is_valid(sent, SALT)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_reference == "240101000001"
    assert order.paid_at is not None and order.status == Order.Status.FULFILLED


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("157", Payment.Status.PENDING),
        ("124", Payment.Status.PENDING),
        (contract.DUPLICATE_REFERENCE, Payment.Status.PENDING),
        ("004", Payment.Status.FAILED),
    ],
)
def test_mwallet_answers_map_to_the_payments_state(code, status):
    payment = direct_payment(mwallet_answer(code))
    assert payment.status == status
    assert payment.gateway_status.startswith(code)


def test_a_forged_mwallet_answer_is_not_believed():
    forged = {**mwallet_answer("000", amount="100"), "pp_SecureHash": "F" * 64}
    payment = direct_payment(forged)
    assert payment.status == Payment.Status.PENDING
    assert "pp_SecureHash" in payment.gateway_status


def test_a_5xx_leaves_the_charge_to_be_sent_again():
    payment = direct_payment(status=503)
    assert payment.status == Payment.Status.PENDING and payment.gateway_status == ""


def inquiry(code="000", payment_code="", state="", amount="", reference=None, payment=None):
    fields = {
        "pp_ResponseCode": code,
        "pp_ResponseMessage": "Inquiry",
        "pp_PaymentResponseCode": payment_code,
        "pp_Status": state,
        "pp_Amount": amount,
        "pp_TxnCurrency": "PKR",
        "pp_RetreivalReferenceNo": "240101000009",
    }
    if reference is not None:
        fields["pp_TxnRefNo"] = reference
    return signed(**fields)


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (dict(payment_code="000", state="Completed", amount="250000"), "paid"),
        (dict(payment_code="121", state="Completed", amount="250000"), "paid"),
        (dict(payment_code="", state="Completed", amount="250000"), "paid"),
        (dict(payment_code="157", state="Pending"), "pending"),
        (dict(payment_code="124", state="Pending"), "pending"),
        (dict(code="109"), "pending"),
        (dict(payment_code="112", state="Failed"), "failed"),
        (dict(payment_code="116", state="Expired"), "expired"),
    ],
)
def test_inquiry_answers_map_to_outcomes(answer, outcome):
    payment = direct_payment(mwallet_answer("157"))
    with responses.RequestsMock() as rsps:
        rsps.post(INQUIRY_URL, json=inquiry(**answer))
        update = get_gateway("jazzcash").inquire(payment)
        sent = request_body(rsps.calls[0])
    assert sent == contract.signed(
        {
            "pp_TxnRefNo": payment.external_reference,
            "pp_MerchantID": "MC12345",
            "pp_Password": "pw987",
        },
        SALT,
    )
    assert update.outcome == outcome
    assert update.payment_reference == payment.external_reference
    if outcome == "paid":
        assert (update.amount, update.currency) == (Decimal("2500.00"), "PKR")
        assert update.gateway_reference == "240101000009"


@pytest.mark.parametrize(
    "answer",
    [
        {**inquiry(payment_code="000", state="Completed", amount="1"), "pp_SecureHash": "00"},
        {k: v for k, v in inquiry(payment_code="000").items() if k != "pp_SecureHash"},
        inquiry(code="101"),
        inquiry(payment_code="000", reference="T999"),
    ],
    ids=["forged", "unsigned", "refused", "another transaction"],
)
def test_an_inquiry_answer_that_cannot_be_trusted_is_an_error(answer):
    payment = direct_payment(mwallet_answer("157"))
    with responses.RequestsMock() as rsps:
        rsps.post(INQUIRY_URL, json=answer)
        with pytest.raises(GatewayError):
            get_gateway("jazzcash").inquire(payment)


def callback(**changes) -> dict:
    fields = {
        "pp_ResponseCode": "000",
        "pp_MerchantID": "MC12345",
        "pp_TxnRefNo": "T1",
        "pp_Amount": "250000",
        "pp_TxnCurrency": "PKR",
    }
    return signed(**{**fields, **changes})


def test_callbacks_are_checked_on_every_field():
    gateway = get_gateway("jazzcash")
    event = gateway.verify_callback(callback(), kind="ipn")
    assert event.payload["reference"] == "T1" and event.event_id.startswith("jazzcash-")
    with pytest.raises(SignatureError):
        gateway.verify_callback({**callback(), "pp_Amount": "1"}, kind="ipn")
    with pytest.raises(SignatureError):
        gateway.verify_callback(
            {k: v for k, v in callback().items() if k != "pp_SecureHash"}, kind="ipn"
        )
    for bad in (
        dict(pp_MerchantID="MC99999"),
        dict(pp_TxnRefNo=""),
        dict(pp_Amount="2500.00"),
        dict(pp_TxnCurrency="USD"),
    ):
        with pytest.raises(MalformedEvent):
            gateway.verify_callback(callback(**bad), kind="return")


def test_the_ipn_answer_is_signed_json():
    content_type, body = get_gateway("jazzcash").acknowledge(None)
    answer = json.loads(body)
    assert content_type == "application/json"
    assert answer["pp_ResponseCode"] == "000" and answer["pp_ResponseMessage"] == "IPN received"
    assert contract.hash_is_valid(answer, SALT)


def paid_direct_payment() -> Payment:
    order = unpaid_order()
    paisa = str(int(order.total * 100))
    with responses.RequestsMock() as rsps:
        rsps.post(MWALLET_URL, json=mwallet_answer("000", amount=paisa))
        with TestCase.captureOnCommitCallbacks(execute=True):  # the charge task
            payment, _ = start_payment(
                order=order,
                gateway_key="jazzcash",
                method="jazzcash_mobile",
                payer_account="03001234567",
            )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def test_a_wallet_payment_is_refunded_through_the_api():
    payment = paid_direct_payment()
    with responses.RequestsMock() as rsps:
        rsps.post(REFUND_URL, json=signed(pp_ResponseCode="000", pp_ResponseMessage="Refunded"))
        refund = refund_order(order=payment.order, amount=payment.amount / 2)
        sent = request_body(rsps.calls[0])
    assert sent["pp_TxnRefNo"] == payment.external_reference
    assert sent["pp_Amount"] == str(int(payment.amount * 50)) and sent["pp_TxnCurrency"] == "PKR"
    assert sent["pp_MerchantMPIN"] == "4321" and sent["pp_Password"] == "pw987"
    assert contract.hash_is_valid(sent, SALT)
    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.external_reference == f"jazzcash-refund-{refund.idempotency_key}"


def test_a_refused_refund_is_failed_and_says_why():
    payment = paid_direct_payment()
    with responses.RequestsMock() as rsps:
        rsps.post(REFUND_URL, json=signed(pp_ResponseCode="024", pp_ResponseMessage="Bad PIN"))
        with pytest.raises(OrderError, match="Bad PIN"):
            refund_order(order=payment.order)
    assert payment.refunds.get().status == Refund.Status.FAILED


def test_a_forged_refund_answer_leaves_the_refund_pending():
    payment = paid_direct_payment()
    with responses.RequestsMock() as rsps:
        rsps.post(REFUND_URL, json={**signed(pp_ResponseCode="000"), "pp_SecureHash": "AA"})
        with pytest.raises(OrderError):
            refund_order(order=payment.order)
    assert payment.refunds.get().status == Refund.Status.PENDING


def test_without_an_mpin_staff_refund_from_the_merchant_portal(settings):
    payment = paid_direct_payment()
    settings.JAZZCASH_MPIN = ""
    with responses.RequestsMock():  # no call goes out
        refund = refund_order(order=payment.order)
    assert refund.status == Refund.Status.PENDING
    assert refund.external_reference == f"jazzcash-staff-{refund.idempotency_key}"


def test_a_hosted_payment_is_refunded_by_staff():
    order = unpaid_order()
    payment, _ = start_payment(order=order, gateway_key="jazzcash", method="jazzcash")
    Payment.objects.filter(pk=payment.pk).update(method="jazzcash")
    refund = Refund(payment=payment, amount=payment.amount, idempotency_key="k-r1")
    with responses.RequestsMock():
        result = get_gateway("jazzcash").refund(refund)
    assert result.status == "pending" and result.external_reference == "jazzcash-staff-k-r1"
    assert "merchant portal" in result.note
