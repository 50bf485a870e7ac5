"""The JazzCash merchant contract (Page Redirection v1.1 and REST API v1.1): its secure hash,
endpoints and response codes, shared by the gateway and its built-in fake."""

import hashlib
import hmac
from collections.abc import Mapping

VERSION = "1.1"
CURRENCY = "PKR"
HASH_FIELD = "pp_SecureHash"

CHECKOUT_PATH = "/CustomerPortal/transactionmanagement/merchantform/"
MWALLET_PATH = "/ApplicationAPI/API/Purchase/DoMWalletTransaction"
INQUIRY_PATH = "/ApplicationAPI/API/PaymentInquiry/Inquire"
REFUND_PATH = "/ApplicationAPI/API/Purchase/domwalletrefundtransaction"

SUCCESS = "000"
CONFIRMED_BY_MERCHANT = "121"  # an inquiry's payment code for a completed, confirmed payment
WAITING_OVER_THE_COUNTER = "124"  # a voucher waiting to be paid at a shop
PENDING = "157"  # waiting for the customer to approve on the phone
INVALID_CREDENTIALS = "101"
NOT_FOUND = "109"
INVALID_VALUE = "110"
CANCELLED_BY_USER = "112"
INVALID_HASH = "115"
EXPIRED = "116"
BAD_PIN = "024"
DUPLICATE_REFERENCE = "409"  # a second transaction under a pp_TxnRefNo already used

PAID_CODES = frozenset({SUCCESS, CONFIRMED_BY_MERCHANT})
PENDING_CODES = frozenset({WAITING_OVER_THE_COUNTER, PENDING})


def secure_hash(fields: Mapping[str, str], salt: str) -> str:
    """pp_SecureHash of ``fields``: the non-empty values of every field named pp… except the
    hash itself, sorted by name (ASCII), joined with "&" after the integrity salt, HMAC-SHA256
    keyed with the salt, hex in upper case."""
    values = [
        str(fields[name])
        for name in sorted(fields)
        if name.startswith("pp") and name != HASH_FIELD and str(fields[name]) != ""
    ]
    message = "&".join([salt, *values])
    return hmac.new(salt.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


def signed(fields: Mapping[str, str], salt: str) -> dict[str, str]:
    """``fields`` with their pp_SecureHash."""
    unsigned = {name: value for name, value in fields.items() if name != HASH_FIELD}
    return {**unsigned, HASH_FIELD: secure_hash(unsigned, salt)}


def hash_is_valid(fields: Mapping[str, str], salt: str) -> bool:
    """Whether ``fields`` carry the pp_SecureHash of their own values."""
    given = str(fields.get(HASH_FIELD, "") or "")
    return bool(given) and hmac.compare_digest(given.upper(), secure_hash(fields, salt))
