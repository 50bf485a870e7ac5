"""Easypaisa through Easypay, its merchant platform: the hosted checkout ("Open Redirect"),
the mobile-account charge approved on the phone, and the inquiry API that decides every outcome.

The hosted request is "signed" by encrypting its fields, in alphabetical order, with the store's
16-character hash key (AES-128-ECB, PKCS#5 padding, base64): ``merchantHashedReq``. The browser
comes back twice: first with an ``auth_token`` it must post to Confirm.jsf, then with the
result (``status``, ``desc``, ``orderRefNumber``), which carries no signature. The IPN is a GET
naming an order-status resource on Easypay's host. Neither is trusted: both only name the attempt
to ask the inquiry API about. The APIs take ``Credentials: base64(username:password)``.
"""

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.utils import timezone

from core.phone import national_digits
from orders.payments.base import (
    OUTCOME_EXPIRED,
    OUTCOME_FAILED,
    OUTCOME_PAID,
    OUTCOME_PENDING,
    REFUND_PENDING,
    GatewayError,
    PaymentUpdate,
    RefundResult,
    SignatureError,
    VerifiedEvent,
    staff_refund_reference,
)
from orders.payments.local_wallet import (
    PAKISTAN,
    REFERENCE_KEY,
    CheckoutForm,
    HttpTransport,
    InProcessTransport,
    LocalWalletGateway,
    Transport,
    callback_event,
    fake_secret,
    is_fake,
    raw_status,
)

KEY = "easypaisa"
FAKE_STORE_ID = "FAKE1"
FAKE_PATH = "/pay/fake/easypaisa"
CHECKOUT_PAGE = "/Index.jsf"
CONFIRM_PAGE = "/Confirm.jsf"
LIVE_PAGES = "/easypay"  # the hosted pages' folder on the live host
MA_PATH = "/easypay-service/rest/v4/initiate-ma-transaction"
INQUIRY_PATH = "/easypay-service/rest/v4/inquire-transaction"
IPN_PATH = "/easypay-service/rest/v1/order-status/"  # …/<account number>/<order reference>
MA_PAYMENT_METHOD = "MA_PAYMENT_METHOD"
CREDENTIALS_HEADER = "Credentials"
# The hosted request's fields in the order they are hashed (alphabetical).
HASHED_FIELDS = (
    "amount",
    "autoRedirect",
    "emailAddr",
    "expiryDate",
    "mobileNum",
    "orderRefNum",
    "paymentMethod",
    "postBackURL",
    "storeId",
)
EXPIRY_FORMAT = "%Y%m%d %H%M%S"
# Response codes (responseCode of the APIs, status of the hosted return).
PAID_CODE = "0000"
# No final answer yet (the customer has not approved on the phone, or Easypay timed out waiting):
# the inquiry decides.
PENDING_CODE = "0001"
DUPLICATE_ORDER_CODE = "0017"  # a transaction under this orderId exists already
DECLINED_CODE = "0019"  # the customer declined, or the request expired unapproved
REQUIRED_FIELD_CODE = "0002"  # a field is missing or malformed
ORDER_NOT_FOUND_CODE = "0003"
INVALID_CREDENTIALS_CODE = "0010"
# The inquiry's transactionStatus → our outcome; anything else is taken as not final yet.
STATUSES = {
    "PAID": OUTCOME_PAID,
    "PENDING": OUTCOME_PENDING,
    "INITIATED": OUTCOME_PENDING,
    "FAILED": OUTCOME_FAILED,
    "DECLINED": OUTCOME_FAILED,
    "REVERSED": OUTCOME_FAILED,
    "EXPIRED": OUTCOME_EXPIRED,
}
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9]{1,50}")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9:_.=-]{1,500}")
DESC_MAX = 200
AMOUNT_PATTERN = re.compile(r"\d{1,12}(\.\d{1,2})?")
CODE_PATTERN = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Merchant:
    """One Easypay store's credentials and where its pages and APIs are."""

    store_id: str
    hash_key: str
    username: str
    password: str
    account_num: str
    api_base: str  # scheme://host[/path] of the APIs and the IPN resources
    pages_base: str  # where Index.jsf and Confirm.jsf are

    @property
    def credentials(self) -> str:
        """The Credentials header's value: base64(username:password)."""
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def ipn_url(self, reference: str) -> str:
        """The IPN resource Easypay names when it notifies about ``reference``."""
        return f"{self.api_base}{IPN_PATH}{self.account_num}/{reference}"


def merchant() -> Merchant:
    """The configured store (live), or the fake's, derived from SECRET_KEY."""
    if is_fake(KEY):
        base = settings.SITE_URL.rstrip("/") + FAKE_PATH
        return Merchant(
            store_id=FAKE_STORE_ID,
            hash_key=fake_secret(KEY, "hash-key")[:16],
            username=fake_secret(KEY, "username"),
            password=fake_secret(KEY, "password"),
            account_num=fake_secret(KEY, "account")[:12],
            api_base=base,
            pages_base=base,
        )
    base = settings.EASYPAISA_BASE_URL.rstrip("/")
    return Merchant(
        store_id=settings.EASYPAISA_STORE_ID,
        hash_key=settings.EASYPAISA_HASH_KEY,
        username=settings.EASYPAISA_USERNAME,
        password=settings.EASYPAISA_PASSWORD,
        account_num=settings.EASYPAISA_ACCOUNT_NUM,
        api_base=base,
        pages_base=base + LIVE_PAGES,
    )


def hashed_string(fields) -> str:
    """The plain text merchantHashedReq encrypts: name=value pairs of HASHED_FIELDS."""
    return "&".join(f"{name}={fields.get(name, '')}" for name in HASHED_FIELDS)


def _cipher(hash_key: str) -> Cipher:
    key = hash_key.encode()
    if len(key) != 16:
        raise ValueError("The Easypay hash key must be 16 bytes (AES-128).")
    return Cipher(algorithms.AES(key), modes.ECB())  # ECB: what the contract specifies


def encrypt(text: str, hash_key: str) -> str:
    """base64(AES-128-ECB/PKCS5(text)) with the store's hash key."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode()) + padder.finalize()
    encryptor = _cipher(hash_key).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def decrypt(value: str, hash_key: str) -> str:
    """The inverse of :func:`encrypt`; ValueError for anything that is not one of ours."""
    try:
        raw = base64.b64decode(value, validate=True)
        decryptor = _cipher(hash_key).decryptor()
        data = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(data) + unpadder.finalize()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("merchantHashedReq does not decrypt with the store's key") from exc


def hosted_amount(amount: Decimal) -> str:
    """An amount as the hosted checkout writes it: decimal rupees, at least one decimal."""
    text = f"{amount.normalize():f}"
    return text if "." in text else f"{text}.0"


def api_amount(amount: Decimal) -> str:
    """An amount as the APIs take it: rupees with two decimals."""
    return f"{amount.quantize(Decimal('0.01')):f}"


def parse_amount(text) -> Decimal:
    """A reported amount in rupees; ValueError for anything but a plain decimal."""
    text = str(text).strip()
    if not AMOUNT_PATTERN.fullmatch(text):
        raise ValueError(f"not an amount: {text[:30]!r}")
    return Decimal(text)


def expiry_text(moment: datetime) -> str:
    """``moment`` as expiryDate: yyyyMMdd HHmmss in Pakistan time."""
    return timezone.localtime(moment, PAKISTAN).strftime(EXPIRY_FORMAT)


def parse_expiry(text: str) -> datetime:
    """The inverse of :func:`expiry_text`; ValueError if it is not one."""
    return datetime.strptime(text, EXPIRY_FORMAT).replace(tzinfo=PAKISTAN)


class EasypaisaGateway(LocalWalletGateway):
    """Easypaisa: hosted checkout, mobile-account charge, status by inquiry, refunds by staff."""

    key = KEY

    def __init__(self, transport: Transport | None = None):
        self._transport = transport

    @property
    def merchant(self) -> Merchant:
        return merchant()

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            if is_fake(KEY):
                from orders.payments.fakes import easypaisa as fake

                self._transport = InProcessTransport(fake.handle)
            else:
                self._transport = HttpTransport()
        return self._transport

    def _call(self, path: str, body: dict) -> dict:
        store = self.merchant
        headers = {CREDENTIALS_HEADER: store.credentials, "Content-Type": "application/json"}
        return self.transport.post(store.api_base + path, json_body=body, headers=headers)

    def checkout_form(self, payment) -> CheckoutForm:
        """Index.jsf's form: the request's fields and merchantHashedReq over them."""
        store = self.merchant
        fields = {
            "storeId": store.store_id,
            "amount": hosted_amount(payment.amount),
            "postBackURL": self.return_url(),
            "orderRefNum": payment.external_reference,
            "expiryDate": expiry_text(self.expiry_of(payment)),
            "autoRedirect": "1",
            "paymentMethod": MA_PAYMENT_METHOD,
            "emailAddr": payment.order.customer.email if payment.order.customer_id else "",
            "mobileNum": national_digits(payment.payer_account) if payment.payer_account else "",
        }
        fields["merchantHashedReq"] = encrypt(hashed_string(fields), store.hash_key)
        return CheckoutForm(action=store.pages_base + CHECKOUT_PAGE, fields=fields)

    def return_step(self, fields: Mapping[str, str]) -> CheckoutForm | None:
        """The first return carries auth_token: the browser posts it to Confirm.jsf."""
        token = fields.get("auth_token", "")
        if "status" in fields or not TOKEN_PATTERN.fullmatch(token):
            return None
        action = self.merchant.pages_base + CONFIRM_PAGE
        return CheckoutForm(
            action=action, fields={"auth_token": token, "postBackURL": self.return_url()}
        )

    def verify_callback(self, fields: Mapping[str, str], *, kind: str) -> VerifiedEvent:
        """The final return (status, desc, orderRefNumber) or the IPN (url): neither is signed
        by Easypay, so each is checked for all it can be and only names an attempt to ask about."""
        if kind == "ipn":
            reference = self._ipn_reference(fields.get("url", ""))
            payload = {REFERENCE_KEY: reference}
        else:
            reference = fields.get("orderRefNumber", "")
            status = fields.get("status", "")
            if not CODE_PATTERN.fullmatch(status):
                raise SignatureError("the return's status is not an Easypay code")
            payload = {REFERENCE_KEY: reference, "status": status}
            payload["desc"] = str(fields.get("desc", ""))[:DESC_MAX]
        self._check_reference(reference)
        return callback_event(self.key, kind, payload)

    def _ipn_reference(self, url: str) -> str:
        """The order an IPN's url names, after checking it is Easypay's order-status resource
        for our account (never fetched: the inquiry is asked instead)."""
        store = self.merchant
        expected = urlsplit(store.api_base)
        try:
            given = urlsplit(url)
        except ValueError as exc:
            raise SignatureError("the notification's url is not a URL") from exc
        if (given.scheme, given.netloc) != (expected.scheme, expected.netloc):
            raise SignatureError("the notification's url is not on Easypay's host")
        if given.query or given.fragment or given.username or given.password:
            raise SignatureError("the notification's url is not an order-status resource")
        prefix = expected.path.rstrip("/") + IPN_PATH
        if not given.path.startswith(prefix):
            raise SignatureError("the notification's url is not an order-status resource")
        parts = given.path[len(prefix) :].split("/")
        if len(parts) != 2 or parts[0] != store.account_num:
            raise SignatureError("the notification names another merchant account")
        return parts[1]

    def _check_reference(self, reference: str) -> None:
        from orders.models import Payment

        if not REFERENCE_PATTERN.fullmatch(reference or ""):
            raise SignatureError("the callback's order reference is not one of ours")
        if not Payment.objects.filter(gateway=self.key, external_reference=reference).exists():
            raise SignatureError("the callback names no attempt of ours")

    def charge_mobile_account(self, payment) -> PaymentUpdate:
        """initiate-ma-transaction for the payer's number; a duplicate orderId or an unknown
        outcome stays pending (the inquiry decides)."""
        store = self.merchant
        body = {
            "orderId": payment.external_reference,
            "storeId": store.store_id,
            "transactionAmount": api_amount(payment.amount),
            "transactionType": "MA",
            "mobileAccountNo": national_digits(payment.payer_account),
            "emailAddress": payment.order.customer.email if payment.order.customer_id else "",
        }
        answer = self._call(MA_PATH, body)
        code = str(answer.get("responseCode", ""))
        self._check_order(answer, payment)
        status = raw_status(code, answer.get("responseDesc"))
        reference = str(answer.get("transactionId") or "")
        if code == PAID_CODE:
            return self.inquire(payment)  # the amount as the wallet recorded it
        outcome = (
            OUTCOME_PENDING if code in (PENDING_CODE, DUPLICATE_ORDER_CODE) else OUTCOME_FAILED
        )
        return PaymentUpdate(
            payment.external_reference,
            outcome,
            gateway_reference=reference,
            gateway_status=status,
        )

    def inquire(self, payment) -> PaymentUpdate:
        """inquire-transaction: the attempt's status, amount and Easypay's transaction id."""
        store = self.merchant
        body = {
            "orderId": payment.external_reference,
            "storeId": store.store_id,
            "accountNum": store.account_num,
        }
        answer = self._call(INQUIRY_PATH, body)
        code = str(answer.get("responseCode", ""))
        if code == INVALID_CREDENTIALS_CODE:
            raise GatewayError(
                f"Easypay refused the credentials: {raw_status(code, answer.get('responseDesc'))}"
            )
        if code != PAID_CODE:  # e.g. no such order yet: not paid so far
            return PaymentUpdate(
                payment.external_reference,
                OUTCOME_PENDING,
                gateway_status=raw_status(code, answer.get("responseDesc")),
            )
        self._check_order(answer, payment)
        transaction_status = str(answer.get("transactionStatus", "")).upper()
        outcome = STATUSES.get(transaction_status, OUTCOME_PENDING)
        amount = None
        if answer.get("transactionAmount") not in (None, ""):
            try:
                amount = parse_amount(answer["transactionAmount"])
            except ValueError as exc:
                raise GatewayError(f"Easypay inquiry: {exc}") from exc
        elif outcome == OUTCOME_PAID:
            raise GatewayError("Easypay reported a payment without its amount")
        return PaymentUpdate(
            payment.external_reference,
            outcome,
            amount,
            "PKR" if amount is not None else "",
            gateway_reference=str(answer.get("transactionId") or ""),
            gateway_status=raw_status(transaction_status or code, answer.get("responseDesc")),
        )

    def _check_order(self, answer: dict, payment) -> None:
        """An answer must be about this attempt at our store."""
        order_id = str(answer.get("orderId") or payment.external_reference)
        store_id = str(answer.get("storeId") or self.merchant.store_id)
        if (order_id, store_id) != (payment.external_reference, self.merchant.store_id):
            raise GatewayError(f"Easypay answered about order {order_id!r} of store {store_id!r}")

    def refund(self, refund) -> RefundResult:
        """Easypay has no refund API: staff send it from the merchant portal."""
        return RefundResult(
            external_reference=staff_refund_reference(self.key, refund),
            status=REFUND_PENDING,
            note=(
                "Easypay has no refund API: to be sent by staff from the Easypaisa merchant "
                "portal, then marked as sent."
            ),
        )
