"""The fake Easypay: its hosted checkout (Index.jsf → auth_token → Confirm.jsf → status), the
mobile-account API, the inquiry API and the IPN, checking and answering as the real one does.

Its state is FakeWalletTransaction; a transaction still pending after its expiry expires.
"""

import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.money import from_minor_units, to_minor_units
from orders.models import FakeWalletTransaction
from orders.payments import easypaisa as contract
from orders.payments.base import GatewayError

Status = FakeWalletTransaction.Status
AUTH_SALT = "easypaisa-fake-auth-token"
AUTH_TOKEN_SECONDS = 30 * 60
MOBILE_PATTERN = re.compile(r"03\d{9}")
STATUS_NAMES = {
    Status.PENDING: "PENDING",
    Status.PAID: "PAID",
    Status.FAILED: "FAILED",
    Status.EXPIRED: "EXPIRED",
    Status.REFUNDED: "REVERSED",
}


class Refused(Exception):
    """The fake Easypay refuses a request, with its response code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def expire_overdue(now=None) -> int:
    """Pending transactions past their expiry expire, as Easypay's do."""
    now = now or timezone.now()
    return FakeWalletTransaction.objects.filter(
        gateway=contract.KEY, status=Status.PENDING, expires_at__lte=now
    ).update(status=Status.EXPIRED)


def _new_transaction_id() -> str:
    return f"EP{secrets.randbelow(10**12):012d}"


def _create(**fields) -> FakeWalletTransaction:
    """A new pending transaction; Refused (duplicate) if its orderId was used."""
    try:
        with transaction.atomic():
            return FakeWalletTransaction.objects.create(
                gateway=contract.KEY, transaction_id=_new_transaction_id(), **fields
            )
    except IntegrityError as exc:
        raise Refused(contract.DUPLICATE_ORDER_CODE, "DUPLICATE ORDER ID") from exc


def _reference(value: str) -> str:
    if not contract.REFERENCE_PATTERN.fullmatch(value or ""):
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID ORDER ID")
    return value


def open_checkout(fields) -> FakeWalletTransaction:
    """Index.jsf: check the store and merchantHashedReq over every field, open the order.

    The same order posted again (the customer came back) shows the same transaction.
    """
    store = contract.merchant()
    if fields.get("storeId") != store.store_id:
        raise Refused(contract.REQUIRED_FIELD_CODE, "STORE DOES NOT EXIST")
    try:
        plain = contract.decrypt(fields.get("merchantHashedReq", ""), store.hash_key)
    except ValueError as exc:
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID HASHED REQUEST") from exc
    if plain != contract.hashed_string(fields):
        raise Refused(contract.REQUIRED_FIELD_CODE, "HASHED REQUEST DOES NOT MATCH THE FIELDS")
    reference = _reference(fields.get("orderRefNum", ""))
    try:
        amount = to_minor_units(contract.parse_amount(fields.get("amount", "")), "PKR")
        expires_at = contract.parse_expiry(fields.get("expiryDate", ""))
    except ValueError as exc:
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID AMOUNT OR EXPIRY") from exc
    post_back = fields.get("postBackURL", "")
    if not post_back.startswith(("https://", "http://")):
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID POSTBACK URL")
    expire_overdue()
    existing = FakeWalletTransaction.objects.filter(gateway=contract.KEY, reference=reference)
    known = existing.first()
    if known is not None:
        if (known.amount_minor, known.return_url, known.status) != (
            amount,
            post_back,
            Status.PENDING,
        ):
            raise Refused(contract.DUPLICATE_ORDER_CODE, "DUPLICATE ORDER ID")
        return known
    if expires_at <= timezone.now():
        raise Refused(contract.REQUIRED_FIELD_CODE, "ORDER EXPIRED")
    return _create(
        reference=reference,
        amount_minor=amount,
        mobile_number=fields.get("mobileNum", ""),
        return_url=post_back,
        expires_at=expires_at,
    )


def record_outcome(txn: FakeWalletTransaction, *, approved: bool) -> bool:
    """The customer paid or declined: record it and send the IPN; False if no longer pending."""
    expire_overdue()
    with transaction.atomic():
        locked = FakeWalletTransaction.objects.select_for_update().get(pk=txn.pk)
        if locked.status != Status.PENDING:
            return False
        locked.status = Status.PAID if approved else Status.FAILED
        locked.save(update_fields=["status"])
        deliver_ipn(locked)
    txn.refresh_from_db()
    return True


def deliver_ipn(txn: FakeWalletTransaction) -> None:
    """Notify the merchant's listener as Easypay does (a GET with the order-status url), after
    commit, in-process. Tests replace this to drop notifications."""
    from orders.services.payment_events import receive_webhook

    body = urlencode({"url": contract.merchant().ipn_url(txn.reference)}).encode()
    transaction.on_commit(lambda: receive_webhook(source=contract.KEY, body=body, headers={}))


def auth_token_for(txn: FakeWalletTransaction) -> str:
    """The auth_token the browser carries back to the merchant after the checkout page."""
    return signing.dumps(txn.reference, salt=AUTH_SALT)


def return_after_checkout(txn: FakeWalletTransaction) -> str:
    """Step 2: the merchant's postBackURL with the auth_token."""
    return f"{txn.return_url}?{urlencode({'auth_token': auth_token_for(txn)})}"


def confirm(fields) -> str:
    """Confirm.jsf: check the auth_token and postBackURL; step 3's URL with the status."""
    try:
        reference = signing.loads(
            fields.get("auth_token", ""), salt=AUTH_SALT, max_age=AUTH_TOKEN_SECONDS
        )
    except signing.BadSignature as exc:
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID AUTH TOKEN") from exc
    expire_overdue()
    txn = FakeWalletTransaction.objects.get(gateway=contract.KEY, reference=reference)
    if fields.get("postBackURL") != txn.return_url:
        raise Refused(contract.REQUIRED_FIELD_CODE, "POSTBACK URL DOES NOT MATCH")
    status, desc = {
        Status.PAID: (contract.PAID_CODE, "SUCCESS"),
        Status.PENDING: (contract.PENDING_CODE, "PENDING"),
        Status.EXPIRED: (contract.DECLINED_CODE, "EXPIRED"),
    }.get(txn.status, (contract.DECLINED_CODE, "DECLINED"))
    query = urlencode({"status": status, "desc": desc, "orderRefNumber": txn.reference})
    return f"{txn.return_url}?{query}"


def pending_for(number: str):
    """The number's requests waiting for approval on the phone, newest first."""
    expire_overdue()
    return FakeWalletTransaction.objects.filter(
        gateway=contract.KEY, mobile_number=number, status=Status.PENDING
    ).order_by("-created_at")


def order_status(account: str, reference: str) -> dict | None:
    """The IPN's order-status resource: what Easypay says about the order, None if unknown."""
    store = contract.merchant()
    expire_overdue()
    txn = FakeWalletTransaction.objects.filter(gateway=contract.KEY, reference=reference).first()
    if account != store.account_num or txn is None:
        return None
    return {
        "order_id": txn.reference,
        "store_id": store.store_id,
        "transaction_id": txn.transaction_id,
        "transaction_status": STATUS_NAMES[Status(txn.status)],
        "transaction_amount": contract.api_amount(from_minor_units(txn.amount_minor, "PKR")),
        "payment_method": "MA",
        "msisdn": txn.mobile_number,
    }


def handle(url: str, body: dict, headers: dict) -> dict:
    """The APIs, in-process: initiate-ma-transaction and inquire-transaction."""
    store = contract.merchant()
    if headers.get(contract.CREDENTIALS_HEADER) != store.credentials:
        return {
            "responseCode": contract.INVALID_CREDENTIALS_CODE,
            "responseDesc": "INVALID CREDENTIALS",
        }
    if body.get("storeId") != store.store_id:
        return {
            "responseCode": contract.REQUIRED_FIELD_CODE,
            "responseDesc": "STORE DOES NOT EXIST",
        }
    try:
        if url == store.api_base + contract.MA_PATH:
            return _initiate(body)
        if url == store.api_base + contract.INQUIRY_PATH:
            return _inquire(body, store)
    except Refused as exc:
        return {
            "responseCode": exc.code,
            "responseDesc": exc.message,
            "orderId": body.get("orderId"),
        }
    raise GatewayError(f"{url}: HTTP 404")


def _initiate(body: dict) -> dict:
    reference = _reference(str(body.get("orderId", "")))
    number = str(body.get("mobileAccountNo", ""))
    amount_text = str(body.get("transactionAmount", ""))
    if body.get("transactionType") != "MA" or not MOBILE_PATTERN.fullmatch(number):
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID MOBILE ACCOUNT")
    if not re.fullmatch(r"\d{1,12}\.\d{2}", amount_text):
        raise Refused(contract.REQUIRED_FIELD_CODE, "INVALID AMOUNT")
    txn = _create(
        reference=reference,
        amount_minor=to_minor_units(contract.parse_amount(amount_text), "PKR"),
        mobile_number=number,
        expires_at=timezone.now() + timedelta(minutes=settings.WALLET_PAYMENT_MINUTES),
    )
    return {
        "orderId": reference,
        "storeId": body["storeId"],
        "transactionId": txn.transaction_id,
        "transactionDateTime": contract.expiry_text(txn.created_at),
        "responseCode": contract.PENDING_CODE,
        "responseDesc": "PENDING: approve the payment on the phone",
    }


def _inquire(body: dict, store) -> dict:
    if body.get("accountNum") != store.account_num:
        raise Refused(contract.REQUIRED_FIELD_CODE, "MERCHANT ACCOUNT DOES NOT EXIST")
    reference = _reference(str(body.get("orderId", "")))
    expire_overdue()
    txn = FakeWalletTransaction.objects.filter(gateway=contract.KEY, reference=reference).first()
    if txn is None:
        raise Refused(contract.ORDER_NOT_FOUND_CODE, "ORDER NOT FOUND")
    return {
        "responseCode": contract.PAID_CODE,
        "responseDesc": "SUCCESS",
        "orderId": reference,
        "storeId": store.store_id,
        "accountNum": store.account_num,
        "transactionStatus": STATUS_NAMES[Status(txn.status)],
        "transactionAmount": contract.api_amount(from_minor_units(txn.amount_minor, "PKR")),
        "transactionId": txn.transaction_id,
        "transactionDateTime": contract.expiry_text(txn.created_at),
        "paymentMode": "MA",
        "msisdn": txn.mobile_number,
    }
