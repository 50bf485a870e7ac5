"""JazzCash: the hosted checkout (Page Redirection v1.1), the direct mobile account charge
(MWALLET, REST v1.1), the status inquiry every callback is checked against, and MWALLET refunds.

Live with the merchant's credentials (JAZZCASH_*); in fake mode against the built-in fake
(orders/payments/fakes/jazzcash.py), which verifies and signs exactly as JazzCash does.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from core.money import from_minor_units, to_minor_units
from core.phone import national_digits
from orders.payments import jazzcash_contract as contract
from orders.payments.base import (
    OUTCOME_EXPIRED,
    OUTCOME_FAILED,
    OUTCOME_PAID,
    OUTCOME_PENDING,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    GatewayError,
    MalformedEvent,
    PaymentUpdate,
    RefundResult,
    SignatureError,
    VerifiedEvent,
    staff_refund_reference,
)
from orders.payments.local_wallet import (
    REFERENCE_KEY,
    CheckoutForm,
    HttpTransport,
    InProcessTransport,
    LocalWalletGateway,
    Transport,
    callback_event,
    fake_secret,
    is_fake,
    pakistan_time,
    raw_status,
)

KEY = "jazzcash"
FAKE_MERCHANT_ID = "MC_FAKE"
FAKE_PATH = "/pay/fake/jazzcash"
EMPTY_FIELDS = ("pp_SubMerchantID", "pp_BankID", "pp_ProductID")
CUSTOM_FIELDS = tuple(f"ppmpf_{n}" for n in range(1, 6))


@dataclass(frozen=True)
class Credentials:
    merchant_id: str
    password: str
    salt: str
    mpin: str
    base_url: str
    checkout_url: str


def credentials() -> Credentials:
    """The merchant's credentials: from settings live, derived from SECRET_KEY in fake mode."""
    if is_fake(KEY):
        site = settings.SITE_URL.rstrip("/") + FAKE_PATH
        return Credentials(
            merchant_id=FAKE_MERCHANT_ID,
            password=fake_secret(KEY, "password"),
            salt=fake_secret(KEY, "salt"),
            mpin=fake_secret(KEY, "mpin"),
            base_url=site,
            checkout_url=site + "/checkout/",
        )
    base = settings.JAZZCASH_BASE_URL.rstrip("/")
    return Credentials(
        merchant_id=settings.JAZZCASH_MERCHANT_ID,
        password=settings.JAZZCASH_PASSWORD,
        salt=settings.JAZZCASH_INTEGRITY_SALT,
        mpin=settings.JAZZCASH_MPIN.strip(),
        base_url=base,
        checkout_url=base + contract.CHECKOUT_PATH,
    )


def transport() -> Transport:
    """HTTPS to JazzCash live; the built-in fake's handler in fake mode."""
    if is_fake(KEY):
        from orders.payments.fakes import jazzcash as fake

        return InProcessTransport(fake.handle)
    return HttpTransport()


def _paisa(payment) -> str:
    return str(to_minor_units(payment.amount, payment.currency))


def _rupees(fields: Mapping[str, str]) -> tuple:
    """(amount, currency) an answer reports; (None, currency) when its amount is unreadable."""
    amount = str(fields.get("pp_Amount", ""))
    currency = str(fields.get("pp_TxnCurrency", ""))
    if not amount.isdigit():
        return None, currency
    return from_minor_units(int(amount), contract.CURRENCY), currency


class JazzCashGateway(LocalWalletGateway):
    """JazzCash per its merchant contract; callbacks are triggers, the inquiry is the truth."""

    key = KEY

    def _order_fields(self, payment, creds: Credentials, txn_type: str) -> dict[str, str]:
        number = payment.order.number
        return {
            "pp_Version": contract.VERSION,
            "pp_TxnType": txn_type,
            "pp_Language": "EN",
            "pp_MerchantID": creds.merchant_id,
            **dict.fromkeys(EMPTY_FIELDS, ""),
            "pp_Password": creds.password,
            "pp_TxnRefNo": payment.external_reference,
            "pp_Amount": _paisa(payment),
            "pp_TxnCurrency": contract.CURRENCY,
            "pp_TxnDateTime": pakistan_time(payment.created_at),
            "pp_BillReference": number,
            "pp_Description": f"Order {number.replace('-', '')}",
            "pp_TxnExpiryDateTime": pakistan_time(self.expiry_of(payment)),
        }

    def checkout_form(self, payment) -> CheckoutForm:
        """The signed Page Redirection form; the customer chooses how to pay at JazzCash."""
        creds = credentials()
        fields = {
            **self._order_fields(payment, creds, txn_type=""),
            "pp_ReturnURL": self.return_url(),
            **dict.fromkeys(CUSTOM_FIELDS, ""),
        }
        return CheckoutForm(creds.checkout_url, contract.signed(fields, creds.salt))

    def _call(self, creds: Credentials, path: str, fields: Mapping[str, str]) -> dict[str, str]:
        """POST signed JSON to an API; the answer's own hash must verify."""
        answer = transport().post(
            creds.base_url + path, json_body=contract.signed(fields, creds.salt)
        )
        answer = {str(k): "" if v is None else str(v) for k, v in answer.items()}
        if not contract.hash_is_valid(answer, creds.salt):
            raise GatewayError(f"JazzCash {path}: the answer's pp_SecureHash does not verify")
        return answer

    def charge_mobile_account(self, payment) -> PaymentUpdate:
        """MWALLET: JazzCash asks the customer to approve on the phone; its immediate answer."""
        creds = credentials()
        fields = {
            **self._order_fields(payment, creds, txn_type="MWALLET"),
            "pp_MobileNumber": national_digits(payment.payer_account),
            **dict.fromkeys(CUSTOM_FIELDS, ""),
        }
        try:
            answer = self._call(creds, contract.MWALLET_PATH, fields)
        except GatewayError as exc:
            if exc.transient:
                raise
            # An answer we cannot trust says nothing: the inquiry will tell what happened.
            return PaymentUpdate(
                payment.external_reference, OUTCOME_PENDING, gateway_status=str(exc)[:200]
            )
        code = answer.get("pp_ResponseCode", "")
        if code == contract.SUCCESS:
            outcome = OUTCOME_PAID
        elif code in contract.PENDING_CODES or code == contract.DUPLICATE_REFERENCE:
            outcome = OUTCOME_PENDING  # a duplicate: the first request under it is the one
        else:
            outcome = OUTCOME_FAILED
        amount, currency = _rupees(answer)
        return PaymentUpdate(
            payment.external_reference,
            outcome,
            amount,
            currency,
            gateway_reference=answer.get("pp_RetreivalReferenceNo", ""),
            gateway_status=raw_status(code, answer.get("pp_ResponseMessage", "")),
        )

    def inquire(self, payment) -> PaymentUpdate:
        """The transaction as the Payment Inquiry API reports it now (one it does not know yet
        is pending)."""
        creds = credentials()
        fields = {
            "pp_TxnRefNo": payment.external_reference,
            "pp_MerchantID": creds.merchant_id,
            "pp_Password": creds.password,
        }
        answer = self._call(creds, contract.INQUIRY_PATH, fields)
        code = answer.get("pp_ResponseCode", "")
        message = answer.get("pp_ResponseMessage", "")
        reference = payment.external_reference
        if code == contract.NOT_FOUND:
            return PaymentUpdate(
                reference, OUTCOME_PENDING, gateway_status=raw_status(code, message)
            )
        if code != contract.SUCCESS:
            raise GatewayError(f"JazzCash inquiry refused: {raw_status(code, message)}")
        if answer.get("pp_TxnRefNo", reference) != reference:
            raise GatewayError("JazzCash inquiry answered about another transaction")
        payment_code = answer.get("pp_PaymentResponseCode", "")
        state = answer.get("pp_Status", "")
        amount, currency = _rupees(answer)
        return PaymentUpdate(
            reference,
            _inquiry_outcome(payment_code, state),
            amount,
            currency,
            gateway_reference=answer.get("pp_RetreivalReferenceNo", ""),
            gateway_status=raw_status(
                payment_code or code, answer.get("pp_PaymentResponseMessage", "") or state
            ),
        )

    def verify_callback(self, fields: Mapping[str, str], *, kind: str) -> VerifiedEvent:
        """A return or IPN: its hash over every pp field, our merchant id, a reference, an
        amount in paisa and rupees as its currency. Only the signed fields are kept."""
        creds = credentials()
        fields = {str(k): str(v) for k, v in fields.items()}
        if not contract.hash_is_valid(fields, creds.salt):
            raise SignatureError("the pp_SecureHash is missing or does not verify")
        if fields.get("pp_MerchantID") != creds.merchant_id:
            raise MalformedEvent("the callback is for another merchant", event_type=kind)
        if not fields.get("pp_TxnRefNo"):
            raise MalformedEvent("the callback names no pp_TxnRefNo", event_type=kind)
        if not fields.get("pp_Amount", "").isdigit():
            raise MalformedEvent("the pp_Amount is not a whole number of paisa", event_type=kind)
        if fields.get("pp_TxnCurrency") != contract.CURRENCY:
            raise MalformedEvent("the currency is not PKR", event_type=kind)
        signed_fields = {name: value for name, value in fields.items() if name.startswith("pp")}
        reference = {REFERENCE_KEY: fields["pp_TxnRefNo"]}
        return callback_event(self.key, kind, {**signed_fields, **reference})

    def acknowledge(self, event: VerifiedEvent | None) -> tuple[str, str]:
        """The signed JSON answer JazzCash expects from an IPN."""
        answer = {"pp_ResponseCode": contract.SUCCESS, "pp_ResponseMessage": "IPN received"}
        return "application/json", json.dumps(contract.signed(answer, credentials().salt))

    def refund(self, refund) -> RefundResult:
        """MWALLET payments are refunded by the API (with the merchant's MPIN); anything else
        is refunded by staff from the merchant portal."""
        payment = refund.payment
        creds = credentials()
        if payment.method != self.direct_method or not creds.mpin:
            return RefundResult(
                external_reference=staff_refund_reference(self.key, refund),
                status=REFUND_PENDING,
                note=(
                    "JazzCash has no refund API for this payment: to be sent by staff from the "
                    "merchant portal, then marked done here."
                ),
            )
        fields = {
            "pp_TxnRefNo": payment.external_reference,
            "pp_Amount": str(to_minor_units(refund.amount, refund.currency)),
            "pp_TxnCurrency": contract.CURRENCY,
            "pp_MerchantID": creds.merchant_id,
            "pp_Password": creds.password,
            "pp_MerchantMPIN": creds.mpin,
        }
        try:
            answer = self._call(creds, contract.REFUND_PATH, fields)
        except GatewayError as exc:
            # Unverifiable: the money may have gone; asked again later, never taken as refused.
            raise GatewayError(str(exc), transient=True) from exc
        code = answer.get("pp_ResponseCode", "")
        message = answer.get("pp_ResponseMessage", "")
        reference = f"jazzcash-refund-{refund.idempotency_key}"
        if code == contract.SUCCESS:
            return RefundResult(reference, REFUND_SUCCEEDED, note=raw_status(code, message))
        return RefundResult(reference, REFUND_FAILED, note=raw_status(code, message))


def _inquiry_outcome(payment_code: str, state: str) -> str:
    """An inquiry's payment response code (else its pp_Status) as an outcome."""
    state = state.lower()
    if payment_code in contract.PAID_CODES or (not payment_code and state == "completed"):
        return OUTCOME_PAID
    if payment_code in contract.PENDING_CODES or (not payment_code and state == "pending"):
        return OUTCOME_PENDING
    if payment_code == contract.EXPIRED or state == "expired":
        return OUTCOME_EXPIRED
    return OUTCOME_FAILED
