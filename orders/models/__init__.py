from orders.models.autorenew import AutoRenewal, AutoRenewalCharge, SavedPaymentMethod
from orders.models.events import WebhookEvent
from orders.models.fake_wallet import FakeWalletTransaction
from orders.models.notifications import Notification
from orders.models.order import Order, new_order_number
from orders.models.partner_webhooks import (
    EventType,
    OrderWebhookSecret,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from orders.models.payment import LOCAL_WALLET_GATEWAYS, Gateway, Payment, Refund
from orders.models.replacement import ReplacementTicket
from orders.models.sim import ProvisioningAttempt, Sim
from orders.models.wallet import WalletEntry

__all__ = [
    "LOCAL_WALLET_GATEWAYS",
    "AutoRenewal",
    "AutoRenewalCharge",
    "EventType",
    "FakeWalletTransaction",
    "Gateway",
    "Notification",
    "Order",
    "OrderWebhookSecret",
    "Payment",
    "ProvisioningAttempt",
    "Refund",
    "ReplacementTicket",
    "SavedPaymentMethod",
    "Sim",
    "WalletEntry",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "new_order_number",
]
