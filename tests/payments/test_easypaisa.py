"""The live Easypaisa adapter against Easypay's recorded request and answer shapes (``responses``):
the hashed hosted request, the mobile-account charge, the inquiry, the callbacks' checks and the
refunds staff send themselves."""

import base64
from datetime import datetime
from decimal import Decimal

import pytest
import responses
from responses import matchers

from core.signing import SignatureError
from orders.models import Refund
from orders.payments import get_gateway
from orders.payments.base import GatewayError
from orders.payments.easypaisa import (
    decrypt,
    encrypt,
    expiry_text,
    hashed_string,
    hosted_amount,
)
from orders.payments.local_wallet import PAKISTAN, REFERENCE_KEY
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import PlanKind
from tests.orders.conftest import plan_of
from tests.worlds import build_customer

pytestmark = pytest.mark.django_db

BASE = "https://easypaystg.easypaisa.com.pk"
MA_URL = f"{BASE}/easypay-service/rest/v4/initiate-ma-transaction"
INQUIRY_URL = f"{BASE}/easypay-service/rest/v4/inquire-transaction"
HASH_KEY = "ABCDEFGHIJKLMNOP"
CREDENTIALS = base64.b64encode(b"store-user:store-pass").decode()
ACCOUNT = "654321"
# Encrypted with `openssl enc -aes-128-ecb -K <hex of HASH_KEY> | base64`, independently.
VECTOR_TEXT = (
    "amount=10.0&autoRedirect=1&emailAddr=buyer@example.com&expiryDate=20260901 000000"
    "&mobileNum=03001234567&orderRefNum=T260831233000000011&paymentMethod=MA_PAYMENT_METHOD"
    "&postBackURL=https://paksim.example/pay/easypaisa/return/&storeId=12345"
)
VECTOR = (
    "KF1v5+zEuWD4gjNV6Jog6by3HOOBXKkF1g3x2ZXSIHx6LX8DgPDaPCvwjZuwlKuIHpK7UGvg+kD3UKtMig6XXhMIg6xp"
    "yCVJtWB6uFZ7jBxunRrZfCw8DMROi9zga2vyRLdhbCr+ydNZ/u1+l4NBI/bEuON2qxRG3gbtldjFAI07M6mmivpzSKUv"
    "gv8sqRJ2KJUheyHhhj+PRPK3n5QidaBICuK6TZPyPuLju0RNmeL2e8Mhohz0mFSEZypXeVc5dX9ng1XLC1PxXREz/7Gm"
    "THvEN8OhXHhSpSvUzoU78Ly0jgmtBT8qNnrBLCbgpxKg"
)


@pytest.fixture(autouse=True)
def live_easypaisa(settings):
    settings.LOCAL_WALLETS = {"easypaisa": "live"}
    settings.EASYPAISA_STORE_ID = "12345"
    settings.EASYPAISA_HASH_KEY = HASH_KEY
    settings.EASYPAISA_USERNAME = "store-user"
    settings.EASYPAISA_PASSWORD = "store-pass"
    settings.EASYPAISA_ACCOUNT_NUM = ACCOUNT
    settings.EASYPAISA_BASE_URL = BASE
    settings.SITE_URL = "https://paksim.example"


@pytest.fixture
def payment(world_catalog):
    order = place_purchase(plan=plan_of(PlanKind.ESIM), customer=build_customer(), currency="PKR")
    payment, _ = start_payment(order=order, gateway_key="easypaisa", method="easypaisa")
    return payment


@pytest.fixture
def gateway():
    return get_gateway("easypaisa")


def with_credentials(body: dict) -> list:
    return [
        matchers.header_matcher({"Credentials": CREDENTIALS}),
        matchers.json_params_matcher(body),
    ]


def inquiry_answer(payment, **fields) -> dict:
    return {
        "responseCode": "0000",
        "responseDesc": "SUCCESS",
        "orderId": payment.external_reference,
        "storeId": "12345",
        "accountNum": ACCOUNT,
        "transactionStatus": "PAID",
        "transactionAmount": f"{payment.amount:.2f}",
        "transactionId": "EP000000123456",
        "transactionDateTime": "31/08/2026 11:30 PM",
        "paymentMode": "MA",
        "msisdn": "03001234567",
        **fields,
    }


def expect_inquiry(payment, **fields):
    body = {"orderId": payment.external_reference, "storeId": "12345", "accountNum": ACCOUNT}
    responses.post(
        INQUIRY_URL, json=inquiry_answer(payment, **fields), match=with_credentials(body)
    )


def test_hashed_request_matches_an_independent_aes_vector():
    assert encrypt(VECTOR_TEXT, HASH_KEY) == VECTOR
    assert decrypt(VECTOR, HASH_KEY) == VECTOR_TEXT


def test_hashed_string_orders_every_field_alphabetically_even_empty_ones():
    fields = {"storeId": "1", "amount": "5.0", "orderRefNum": "T1", "emailAddr": ""}
    assert hashed_string(fields) == (
        "amount=5.0&autoRedirect=&emailAddr=&expiryDate=&mobileNum=&orderRefNum=T1"
        "&paymentMethod=&postBackURL=&storeId=1"
    )


def test_a_request_under_another_key_does_not_decrypt():
    with pytest.raises(ValueError):
        decrypt(encrypt(VECTOR_TEXT, "PONMLKJIHGFEDCBA"), HASH_KEY)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("10", "10.0"), ("1250.50", "1250.5"), ("99.99", "99.99"), ("1250.0000", "1250.0")],
)
def test_hosted_amounts_are_decimal_rupees(amount, text):
    assert hosted_amount(Decimal(amount)) == text


def test_expiry_is_written_in_pakistan_time():
    moment = datetime(2026, 8, 31, 19, 5, 9, tzinfo=PAKISTAN).astimezone(tz=None)
    assert expiry_text(moment) == "20260831 190509"


def test_checkout_form_posts_the_signed_request_to_index_jsf(gateway, payment):
    form = gateway.checkout_form(payment)
    assert form.action == f"{BASE}/easypay/Index.jsf"
    fields = dict(form.fields)
    signed = fields.pop("merchantHashedReq")
    assert fields == {
        "storeId": "12345",
        "amount": hosted_amount(payment.amount),
        "postBackURL": "https://paksim.example/pay/easypaisa/return/",
        "orderRefNum": payment.external_reference,
        "expiryDate": expiry_text(payment.expires_at),
        "autoRedirect": "1",
        "paymentMethod": "MA_PAYMENT_METHOD",
        "emailAddr": payment.order.customer.email,
        "mobileNum": "",
    }
    assert decrypt(signed, HASH_KEY) == hashed_string(fields)


def test_first_return_with_auth_token_posts_it_to_confirm_jsf(gateway):
    step = gateway.return_step({"auth_token": "ABC123-token"})
    assert step.action == f"{BASE}/easypay/Confirm.jsf"
    assert step.fields == {
        "auth_token": "ABC123-token",
        "postBackURL": "https://paksim.example/pay/easypaisa/return/",
    }
    assert gateway.return_step({"status": "0000", "orderRefNumber": "T1"}) is None
    assert gateway.return_step({"auth_token": '"><script>'}) is None


def test_final_return_names_the_attempt(gateway, payment):
    fields = {"status": "0000", "desc": "SUCCESS", "orderRefNumber": payment.external_reference}
    event = gateway.verify_callback(fields, kind="return")
    assert event.payload[REFERENCE_KEY] == payment.external_reference
    assert event.event_id == gateway.verify_callback(dict(fields), kind="return").event_id


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "OK", "desc": "", "orderRefNumber": "{ref}"},
        {"status": "0000", "desc": "", "orderRefNumber": "T000000000000000000"},
        {"status": "0000", "desc": "", "orderRefNumber": "../{ref}"},
        {"status": "0000", "desc": ""},
    ],
)
def test_final_return_that_cannot_be_ours_is_refused(gateway, payment, fields):
    fields = {k: v.format(ref=payment.external_reference) for k, v in fields.items()}
    with pytest.raises(SignatureError):
        gateway.verify_callback(fields, kind="return")


def ipn_body(url: str) -> bytes:
    from urllib.parse import urlencode

    return urlencode({"url": url}).encode()


def test_ipn_on_easypays_host_names_the_attempt(gateway, payment):
    url = f"{BASE}/easypay-service/rest/v1/order-status/{ACCOUNT}/{payment.external_reference}"
    event = gateway.verify_event(ipn_body(url), {})
    assert event.payload == {REFERENCE_KEY: payment.external_reference}
    assert gateway.acknowledge(event) == ("text/plain", "OK")


@pytest.mark.parametrize(
    "url",
    [
        "http://easypaystg.easypaisa.com.pk/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "https://easypaystg.easypaisa.com.pk.evil.example/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "https://evil.example/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "https://user@easypaystg.easypaisa.com.pk/easypay-service/rest/v1/order-status/{acct}/{ref}",
        "https://easypaystg.easypaisa.com.pk/easypay-service/rest/v1/order-status/111/{ref}",
        "https://easypaystg.easypaisa.com.pk/other/{acct}/{ref}",
        "https://easypaystg.easypaisa.com.pk/easypay-service/rest/v1/order-status/{acct}/{ref}?x=1",
        "https://easypaystg.easypaisa.com.pk/easypay-service/rest/v1/order-status/{acct}/T1",
    ],
)
def test_ipn_url_elsewhere_is_refused(gateway, payment, url):
    url = url.format(acct=ACCOUNT, ref=payment.external_reference)
    with pytest.raises(SignatureError):
        gateway.verify_event(ipn_body(url), {})


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("PAID", "paid"),
        ("PENDING", "pending"),
        ("FAILED", "failed"),
        ("EXPIRED", "expired"),
        ("REVERSED", "failed"),
        ("SOMETHING NEW", "pending"),
    ],
)
@responses.activate
def test_inquiry_maps_easypays_status(gateway, payment, status, outcome):
    expect_inquiry(payment, transactionStatus=status)
    update = gateway.inquire(payment)
    assert update.outcome == outcome
    assert update.payment_reference == payment.external_reference
    assert (update.amount, update.currency) == (payment.amount, "PKR")
    assert update.gateway_reference == "EP000000123456"
    assert update.gateway_status.startswith(status)


@responses.activate
def test_inquiry_about_an_order_easypay_does_not_know_is_pending(gateway, payment):
    responses.post(INQUIRY_URL, json={"responseCode": "0003", "responseDesc": "ORDER NOT FOUND"})
    update = gateway.inquire(payment)
    assert (update.outcome, update.amount) == ("pending", None)
    assert update.gateway_status == "0003 ORDER NOT FOUND"


@responses.activate
def test_inquiry_reporting_another_amount_reports_it(gateway, payment):
    expect_inquiry(payment, transactionAmount="1.00")
    assert gateway.inquire(payment).amount == Decimal("1.00")


@pytest.mark.parametrize(
    "answer",
    [
        {"orderId": "T111111111111111111"},
        {"storeId": "99999"},
        {"transactionAmount": "ten"},
        {"transactionAmount": None},
        {"responseCode": "0010", "responseDesc": "INVALID CREDENTIALS"},
    ],
)
@responses.activate
def test_inquiry_answers_that_cannot_be_used_are_errors(gateway, payment, answer):
    expect_inquiry(payment, **answer)
    with pytest.raises(GatewayError):
        gateway.inquire(payment)


def ma_body(payment) -> dict:
    return {
        "orderId": payment.external_reference,
        "storeId": "12345",
        "transactionAmount": f"{payment.amount:.2f}",
        "transactionType": "MA",
        "mobileAccountNo": "03001234567",
        "emailAddress": payment.order.customer.email,
    }


def expect_charge(payment, code: str, desc: str = ""):
    answer = {
        "orderId": payment.external_reference,
        "storeId": "12345",
        "transactionId": "EP000000999",
        "transactionDateTime": "31/08/2026 11:30 PM",
        "responseCode": code,
        "responseDesc": desc,
    }
    responses.post(MA_URL, json=answer, match=with_credentials(ma_body(payment)))


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("0001", "pending"), ("0017", "pending"), ("0013", "failed"), ("0019", "failed")],
)
@responses.activate
def test_mobile_account_charge_answers(gateway, payment, code, outcome):
    payment.payer_account = "+923001234567"
    expect_charge(payment, code, "ANSWER")
    update = gateway.charge_mobile_account(payment)
    assert update.outcome == outcome
    assert (update.gateway_reference, update.gateway_status) == ("EP000000999", f"{code} ANSWER")


@responses.activate
def test_mobile_account_charge_paid_at_once_is_read_back_by_inquiry(gateway, payment):
    payment.payer_account = "+923001234567"
    expect_charge(payment, "0000", "SUCCESS")
    expect_inquiry(payment)
    update = gateway.charge_mobile_account(payment)
    assert (update.outcome, update.amount, update.currency) == ("paid", payment.amount, "PKR")
    assert len(responses.calls) == 2


@pytest.mark.parametrize("status", [500, 503])
@responses.activate
def test_easypay_unavailable_is_transient(gateway, payment, status):
    payment.payer_account = "+923001234567"
    responses.post(MA_URL, status=status)
    with pytest.raises(GatewayError) as caught:
        gateway.charge_mobile_account(payment)
    assert caught.value.transient


@responses.activate
def test_credentials_header_is_base64_of_username_and_password(gateway, payment, settings):
    settings.EASYPAISA_PASSWORD = "other"
    expect_inquiry(payment)
    with pytest.raises(GatewayError):
        gateway.inquire(payment)
    sent = responses.calls[0].request.headers["Credentials"]
    assert base64.b64decode(sent) == b"store-user:other"


def test_refunds_are_sent_by_staff_from_the_merchant_portal(gateway, payment):
    refund = Refund(
        payment=payment,
        amount=payment.amount,
        currency="PKR",
        idempotency_key=f"{payment.idempotency_key}-r1",
    )
    result = gateway.refund(refund)
    assert result.status == "pending"
    assert result.external_reference == f"easypaisa-staff-{refund.idempotency_key}"
    assert "merchant portal" in result.note
