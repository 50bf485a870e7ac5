"""The partner wallet as a gateway: paid when the order is placed, refunded into the ledger."""

from orders.models import WalletEntry
from orders.payments.base import PaymentGateway, PaymentStart, RefundResult
from orders.services.wallet import record_entry


class WalletGateway(PaymentGateway):
    key = "wallet"

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        return PaymentStart()

    def refund(self, refund) -> RefundResult:
        order = refund.payment.order
        entry = record_entry(
            partner=order.partner,
            kind=WalletEntry.Kind.REFUND,
            amount=refund.amount,
            currency=refund.currency,
            order=order,
            reason=refund.reason or f"Refund of order {order.number}",
            created_by=refund.created_by,
        )
        return RefundResult(f"wallet-{entry.pk}")
