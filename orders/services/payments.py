"""Taking payments: start one through a gateway, record what the gateway says happened."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import Currency
from core.state import transition
from core.validators import normalize_pakistani_mobile
from orders.models import LOCAL_WALLET_GATEWAYS, Gateway, Order, Payment
from orders.payments import get_gateway
from orders.payments.base import GatewayError, PaymentStart
from orders.payments.local_wallet import direct_method
from orders.payments.manual import MANUAL_METHODS
from orders.services.errors import OrderError
from orders.services.lifecycle import (
    ALREADY_RECORDED,
    PAYABLE_STATES,
    SURPLUS,
    record_payment_success,
)
from orders.services.refunds import refund_surplus

logger = logging.getLogger(__name__)

# Stripe presents Alipay and WeChat Pay in these of our currencies only (not PKR).
WALLET_METHOD_CURRENCIES = {
    "alipay": {Currency.CNY, Currency.USD},
    "wechat_pay": {Currency.CNY, Currency.USD},
}
CARD_METHODS = ["card", "alipay", "wechat_pay"]


def methods_for(currency: str) -> list[tuple[str, str]]:
    """(gateway, method) pairs a customer may pay with in ``currency``."""
    card_gateway = settings.PAYMENT_GATEWAY
    methods = [
        (card_gateway, method)
        for method in CARD_METHODS
        if currency in WALLET_METHOD_CURRENCIES.get(method, Currency.values)
    ]
    if currency == Currency.PKR:  # the local wallets take rupees only
        for wallet in settings.LOCAL_WALLETS:
            methods += [(wallet, wallet), (wallet, direct_method(wallet))]
        methods += [
            (Gateway.MANUAL, method)
            for method in MANUAL_METHODS
            if method not in settings.LOCAL_WALLETS  # paid automatically instead
        ]
    return methods


def is_direct_wallet(gateway_key: str, method: str) -> bool:
    """Whether the method charges a mobile wallet number the customer approves on the phone."""
    return gateway_key in LOCAL_WALLET_GATEWAYS and method == direct_method(gateway_key)


def _wallet_number(gateway_key: str, method: str, payer_account: str) -> str:
    if not is_direct_wallet(gateway_key, method):
        return ""
    try:
        return normalize_pakistani_mobile(payer_account.strip())
    except ValidationError as exc:
        raise OrderError("wallet_number_invalid", exc.messages[0]) from exc


def start_payment(
    *,
    order: Order,
    gateway_key: str,
    method: str = "card",
    success_url: str = "",
    cancel_url: str = "",
    customer_reference: str = "",
    payer_account: str = "",
) -> tuple[Payment, PaymentStart]:
    """Create a pending payment for ``order`` and begin it with the gateway.

    A direct wallet payment charges ``payer_account`` (a Pakistani mobile number) from a task;
    the customer approves it on the phone.
    """
    if order.customer_id is None or (gateway_key, method) not in methods_for(order.currency):
        raise OrderError("method_unavailable", _("This payment method is not available."))
    if gateway_key == Gateway.MANUAL and not customer_reference.strip():
        raise OrderError("reference_required", _("Enter the reference of your payment."))
    wallet_number = _wallet_number(gateway_key, method, payer_account)
    local_wallet = gateway_key in LOCAL_WALLET_GATEWAYS
    from orders import tasks

    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status not in PAYABLE_STATES:
            raise OrderError("not_payable", _("This order is already paid or closed."))
        if locked.status != Order.Status.AWAITING_PAYMENT:
            transition(locked, Order.Status.AWAITING_PAYMENT, actor=locked.customer)
        for stale in locked.payments.filter(status=Payment.Status.PENDING):
            transition(stale, Payment.Status.CANCELLED, note="superseded by a new attempt")
            tasks.expire_payment.delay_on_commit(stale.pk)
        payment = Payment.objects.create(
            order=locked,
            gateway=gateway_key,
            method=method,
            amount=locked.total,
            currency=locked.currency,
            idempotency_key=f"{locked.number}-p{locked.payments.count() + 1}",
            customer_reference=customer_reference.strip(),
            payer_account=wallet_number,
            expires_at=(
                timezone.now() + timedelta(minutes=settings.WALLET_PAYMENT_MINUTES)
                if local_wallet
                else None
            ),
        )
    try:
        started = get_gateway(gateway_key).start(
            payment, success_url=success_url, cancel_url=cancel_url
        )
    except GatewayError as exc:
        raise OrderError(
            "gateway_unavailable", _("Payment could not be started. Try again.")
        ) from exc
    if started.external_reference:
        Payment.objects.filter(pk=payment.pk).update(external_reference=started.external_reference)
        payment.external_reference = started.external_reference
    if wallet_number:
        tasks.charge_mobile_account.delay_on_commit(payment.pk)
    order.refresh_from_db()
    return payment, started


def mark_payment_succeeded(*, payment: Payment, actor=None, note: str = "") -> bool:
    """Record the money as received and move the order on; a duplicate changes nothing.

    Money for an order that another payment already paid (or that was closed) is recorded and
    refunded in full.
    """
    with transaction.atomic():
        result = record_payment_success(payment=payment, actor=actor, note=note)
        if result == SURPLUS:
            refund_surplus(payment=payment)
    payment.refresh_from_db()
    return result != ALREADY_RECORDED


def expire_payment(*, payment_id: int) -> None:
    """Close a cancelled attempt's session at its gateway, so the customer cannot pay it.

    Best effort: a session that was paid meanwhile is recorded (and refunded) when its
    success event arrives.
    """
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status != Payment.Status.CANCELLED or not payment.external_reference:
        return
    try:
        get_gateway(payment.gateway).expire(payment)
    except GatewayError as exc:
        if exc.transient:
            raise
        logger.info("Payment %s could not be expired at its gateway: %s", payment.pk, exc)


def mark_payment_failed(*, payment: Payment, note: str = "") -> bool:
    """Record a failed payment; a payment that succeeded never goes back."""
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.PENDING:
            return False
        transition(locked, Payment.Status.FAILED, actor_label="payments", note=note)
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        if order.status == Order.Status.AWAITING_PAYMENT:
            transition(order, Order.Status.PAYMENT_FAILED, actor_label="payments", note=note)
    payment.refresh_from_db()
    return True


def mark_payment_expired(*, payment: Payment, note: str = "") -> bool:
    """The customer's payment page expired unpaid: cancel the payment so the order can be paid
    again, the same way a failed payment leaves it. A duplicate, or a payment already superseded
    by a newer attempt, changes nothing.
    """
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.PENDING:
            return False
        transition(locked, Payment.Status.CANCELLED, actor_label="payments", note=note)
        order = Order.objects.select_for_update().get(pk=locked.order_id)
        still_pending = order.payments.filter(status=Payment.Status.PENDING).exists()
        if order.status == Order.Status.AWAITING_PAYMENT and not still_pending:
            transition(order, Order.Status.PAYMENT_FAILED, actor_label="payments", note=note)
    payment.refresh_from_db()
    return True


def confirm_manual_payment(*, payment: Payment, actor) -> bool:
    """Staff confirm a bank transfer / JazzCash / Easypaisa payment arrived."""
    if payment.gateway != Gateway.MANUAL:
        raise OrderError("not_manual", "Only manual payments are confirmed by staff.")
    return mark_payment_succeeded(payment=payment, actor=actor, note="confirmed by staff")
