from orders.models.autorenew import AutoRenewal, AutoRenewalCharge, SavedPaymentMethod
from orders.models.events import WebhookEvent
from orders.models.order import Order, new_order_number
from orders.models.payment import Gateway, Payment, Refund
from orders.models.replacement import ReplacementTicket
from orders.models.sim import ProvisioningAttempt, Sim
from orders.models.wallet import WalletEntry

__all__ = [
    "AutoRenewal",
    "AutoRenewalCharge",
    "Gateway",
    "Order",
    "Payment",
    "ProvisioningAttempt",
    "Refund",
    "ReplacementTicket",
    "SavedPaymentMethod",
    "Sim",
    "WalletEntry",
    "WebhookEvent",
    "new_order_number",
]
