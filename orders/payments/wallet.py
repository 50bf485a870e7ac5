"""The partner wallet as a gateway: paid when the order is placed, refunded into the ledger."""

from orders.models import WalletEntry
from orders.payments.base import PaymentGateway, PaymentStart, RefundResult


class WalletGateway(PaymentGateway):
    key = "wallet"

    def start(self, payment, *, success_url: str, cancel_url: str) -> PaymentStart:
        return PaymentStart()

    def refund(self, refund) -> RefundResult:
        order = refund.payment.order
        entry = WalletEntry.objects.create(
            partner_id=order.partner_id,
            kind=WalletEntry.Kind.REFUND,
            amount=refund.amount,
            currency=refund.currency,
            order=order,
            reason=refund.reason or f"Refund of order {order.number}",
            created_by=refund.created_by,
        )
        return RefundResult(f"wallet-{entry.pk}")
