"""Payment gateways, one module each, chosen by key."""

from django.conf import settings

from orders.payments.base import PaymentGateway


def get_gateway(key: str) -> PaymentGateway:
    """The gateway for ``key`` ("stripe", "test", "manual", "wallet", "jazzcash", "easypaisa")."""
    if key == "stripe":
        from orders.payments.stripe import StripeGateway

        return StripeGateway()
    if key == "test":
        from orders.payments.test import TestGateway

        return TestGateway()
    if key == "manual":
        from orders.payments.manual import ManualGateway

        return ManualGateway()
    if key == "wallet":
        from orders.payments.wallet import WalletGateway

        return WalletGateway()
    if key == "jazzcash":
        from orders.payments.jazzcash import JazzCashGateway

        return JazzCashGateway()
    if key == "easypaisa":
        from orders.payments.easypaisa import EasypaisaGateway

        return EasypaisaGateway()
    raise LookupError(f"Unknown payment gateway {key!r}")


def card_gateway_key() -> str:
    """The gateway customers pay by card with: Stripe when configured, else the test gateway."""
    return settings.PAYMENT_GATEWAY
