"""Manual payments (bank transfer, JazzCash, Easypaisa): the customer gives a reference and staff
confirm the money arrived."""

from orders.payments.base import PaymentGateway, PaymentStart, RefundResult

MANUAL_METHODS = ["bank_transfer", "jazzcash", "easypaisa"]


class ManualGateway(PaymentGateway):
    key = "manual"

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        return PaymentStart(redirect_url=success_url)

    def refund(self, refund) -> RefundResult:
        # Staff send the money back by the same method and record it; the refund row is the record.
        return RefundResult(f"manual-refund-{refund.idempotency_key}")
