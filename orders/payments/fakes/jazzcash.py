"""The built-in fake JazzCash "server": its APIs (MWALLET, inquiry, refund), its hosted checkout
and phone approval, checking credentials and hashes and signing answers and callbacks as the
real one does. What it knows lives in FakeWalletTransaction."""

import json
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from orders.models import FakeWalletTransaction
from orders.payments import jazzcash_contract as contract
from orders.payments.base import GatewayError
from orders.payments.jazzcash import KEY, Credentials, credentials
from orders.payments.local_wallet import PAKISTAN

Status = FakeWalletTransaction.Status
MESSAGES = {
    contract.SUCCESS: "Thank you for Using JazzCash, your transaction was successful.",
    contract.PENDING: "Transaction is pending. Approve it on your phone.",
    contract.INVALID_CREDENTIALS: "Invalid merchant credentials.",
    contract.NOT_FOUND: "Transaction does not exist",
    contract.INVALID_VALUE: "Invalid value for",
    contract.CANCELLED_BY_USER: "Transaction Cancelled by User.",
    contract.INVALID_HASH: "Invalid hash received.",
    contract.EXPIRED: "Transaction Expired",
    contract.BAD_PIN: "Bad PIN",
    contract.DUPLICATE_REFERENCE: "Transaction with this reference number already exists.",
}
# A transaction's state as the inquiry reports it: (pp_PaymentResponseCode, pp_Status).
INQUIRY_STATES = {
    Status.PENDING: (contract.PENDING, "Pending"),
    Status.PAID: (contract.SUCCESS, "Completed"),
    Status.FAILED: (contract.CANCELLED_BY_USER, "Failed"),
    Status.EXPIRED: (contract.EXPIRED, "Expired"),
    Status.REFUNDED: (contract.SUCCESS, "Refunded"),
}
CALLBACK_CODES = {
    Status.PAID: contract.SUCCESS,
    Status.FAILED: contract.CANCELLED_BY_USER,
    Status.EXPIRED: contract.EXPIRED,
}


class Refused(Exception):
    """The fake refuses a request with a JazzCash response code."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.message = f"{MESSAGES[code]} {detail}".strip()


def answer(fields: dict, code: str, message: str = "") -> dict[str, str]:
    """A signed answer with ``code``."""
    body = {**fields, "pp_ResponseCode": code, "pp_ResponseMessage": message or MESSAGES[code]}
    return contract.signed(body, credentials().salt)


def check_request(body: dict, creds: Credentials) -> None:
    """Refuse a request whose hash or merchant credentials are wrong, as JazzCash does."""
    if not contract.hash_is_valid(body, creds.salt):
        raise Refused(contract.INVALID_HASH)
    if body.get("pp_MerchantID") != creds.merchant_id or body.get("pp_Password") != creds.password:
        raise Refused(contract.INVALID_CREDENTIALS)


def _paisa(body: dict) -> int:
    amount = str(body.get("pp_Amount", ""))
    if not amount.isdigit() or int(amount) <= 0:
        raise Refused(contract.INVALID_VALUE, "pp_Amount")
    if body.get("pp_TxnCurrency") != contract.CURRENCY:
        raise Refused(contract.INVALID_VALUE, "pp_TxnCurrency")
    return int(amount)


def _expiry(body: dict) -> datetime:
    try:
        moment = datetime.strptime(str(body.get("pp_TxnExpiryDateTime", "")), "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise Refused(contract.INVALID_VALUE, "pp_TxnExpiryDateTime") from exc
    return moment.replace(tzinfo=PAKISTAN)


def handle(url: str, body: dict, headers: dict) -> dict:
    """The APIs, matched on the URL's path like JazzCash's; unknown paths are a 404."""
    path = urlsplit(url).path
    routes = {
        contract.MWALLET_PATH: mwallet,
        contract.INQUIRY_PATH: inquire,
        contract.REFUND_PATH: refund,
    }
    for suffix, endpoint in routes.items():
        if path.endswith(suffix):
            fields = {str(k): "" if v is None else str(v) for k, v in body.items()}
            try:
                return endpoint(fields, credentials())
            except Refused as exc:
                echo = {"pp_TxnRefNo": fields.get("pp_TxnRefNo", "")}
                return answer(echo, exc.code, exc.message)
    raise GatewayError(f"{url}: HTTP 404")


def open_transaction(body: dict, *, mobile_number: str = "", return_url: str = ""):
    """Record a new pending transaction from a checked request (a duplicate is refused)."""
    reference = str(body.get("pp_TxnRefNo", ""))
    if not reference or len(reference) > 20 or not reference.isalnum():
        raise Refused(contract.INVALID_VALUE, "pp_TxnRefNo")
    amount = _paisa(body)
    expires_at = _expiry(body)
    if FakeWalletTransaction.objects.filter(gateway=KEY, reference=reference).exists():
        raise Refused(contract.DUPLICATE_REFERENCE)
    return FakeWalletTransaction.objects.create(
        gateway=KEY,
        reference=reference,
        transaction_id=f"{timezone.now():%y%m%d}{secrets.randbelow(10**6):06d}",
        amount_minor=amount,
        mobile_number=mobile_number,
        return_url=return_url,
        expires_at=expires_at,
    )


def mwallet(body: dict, creds: Credentials) -> dict:
    """DoMWalletTransaction: a pending charge the customer approves on the phone page."""
    check_request(body, creds)
    number = body.get("pp_MobileNumber", "")
    if len(number) != 11 or not number.startswith("03") or not number.isdigit():
        raise Refused(contract.INVALID_VALUE, "pp_MobileNumber")
    txn = open_transaction(body, mobile_number=number)
    return answer(
        {**_transaction_fields(txn), "pp_MobileNumber": number, "pp_TxnType": "MWALLET"},
        contract.PENDING,
    )


def inquire(body: dict, creds: Credentials) -> dict:
    """PaymentInquiry: the transaction's state now (an unknown one: "does not exist")."""
    check_request(body, creds)
    txn = FakeWalletTransaction.objects.filter(gateway=KEY, reference=body["pp_TxnRefNo"]).first()
    if txn is None:
        raise Refused(contract.NOT_FOUND)
    txn = expire_if_due(txn)
    payment_code, state = INQUIRY_STATES[txn.status]
    fields = {
        **_transaction_fields(txn),
        "pp_PaymentResponseCode": payment_code,
        "pp_PaymentResponseMessage": MESSAGES[payment_code],
        "pp_Status": state,
    }
    return answer(fields, contract.SUCCESS, "Inquiry successful")


def refund(body: dict, creds: Credentials) -> dict:
    """domwalletrefundtransaction: give back (part of) a paid MWALLET transaction."""
    check_request(body, creds)
    if body.get("pp_MerchantMPIN") != creds.mpin:
        raise Refused(contract.BAD_PIN)
    amount = _paisa(body)
    with transaction.atomic():
        txn = (
            FakeWalletTransaction.objects.select_for_update()
            .filter(gateway=KEY, reference=body["pp_TxnRefNo"])
            .first()
        )
        if txn is None or not txn.mobile_number:
            raise Refused(contract.NOT_FOUND)
        if txn.status != Status.PAID or amount > txn.amount_minor - txn.refunded_minor:
            raise Refused(contract.INVALID_VALUE, "pp_Amount")
        txn.refunded_minor += amount
        if txn.refunded_minor == txn.amount_minor:
            txn.status = Status.REFUNDED
        txn.save(update_fields=["refunded_minor", "status"])
    return answer(
        {"pp_TxnRefNo": txn.reference, "pp_Amount": str(amount), "pp_TxnCurrency": "PKR"},
        contract.SUCCESS,
    )


def expire_if_due(txn):
    """A pending transaction past its expiry is expired (JazzCash closes it)."""
    if txn.status == Status.PENDING and timezone.now() > txn.expires_at:
        FakeWalletTransaction.objects.filter(pk=txn.pk, status=Status.PENDING).update(
            status=Status.EXPIRED
        )
        txn.refresh_from_db()
    return txn


def decide(txn, *, paid: bool) -> dict[str, str] | None:
    """The customer pays or declines a pending transaction; the signed callback fields, or None
    when it is no longer pending (its expiry passed, or already decided)."""
    with transaction.atomic():
        locked = FakeWalletTransaction.objects.select_for_update().get(pk=txn.pk)
        if expire_if_due(locked).status != Status.PENDING:
            return None
        locked.status = Status.PAID if paid else Status.FAILED
        locked.save(update_fields=["status"])
        fields = callback_fields(locked)
        send_ipn(fields)
    return fields


def callback_fields(txn) -> dict[str, str]:
    """The signed fields JazzCash posts to the return URL and the IPN about ``txn``."""
    fields = {
        **_transaction_fields(txn),
        "pp_Version": contract.VERSION,
        "pp_TxnType": "MWALLET",
        "pp_Language": "EN",
        "pp_SubMerchantId": "",
        "pp_BillReference": "",
        "pp_AuthCode": txn.transaction_id[-6:],
        "pp_TxnDateTime": timezone.localtime(txn.created_at, PAKISTAN).strftime("%Y%m%d%H%M%S"),
        "pp_MobileNumber": txn.mobile_number,
        **{f"ppmpf_{n}": "" for n in range(1, 6)},
    }
    return answer(fields, CALLBACK_CODES[txn.status])


def send_ipn(fields: dict[str, str]) -> None:
    """Send the IPN after the fake's own change commits (through ``deliver_ipn``)."""
    transaction.on_commit(lambda: deliver_ipn(fields))


def deliver_ipn(fields: dict[str, str]) -> None:
    """POST the IPN to the portal, in process, as JazzCash would (tests replace this to drop
    callbacks)."""
    from orders.services.payment_events import receive_webhook

    body = json.dumps(fields).encode()
    receive_webhook(source=KEY, body=body, headers={"Content-Type": "application/json"})


def _transaction_fields(txn) -> dict[str, str]:
    return {
        "pp_MerchantID": credentials().merchant_id,
        "pp_TxnRefNo": txn.reference,
        "pp_Amount": str(txn.amount_minor),
        "pp_TxnCurrency": txn.currency,
        "pp_RetreivalReferenceNo": txn.transaction_id,
    }
