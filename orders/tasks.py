"""Order tasks: thin wrappers that load by id and call a service. Safe to run twice.

Every task has the default time limits of portal/celery.py; short ones (one HTTP call, one email,
one dispatch) declare lower ones here.
"""

from celery import shared_task
from django.utils import timezone

from orders.models import Order
from orders.notifications import reminders
from orders.partner_webhooks import delivery
from orders.payments.base import GatewayError
from orders.services import (
    local_wallets,
    notifications,
    payment_events,
    payments,
    provisioning,
    refunds,
    usage,
)
from plans.providers.base import TransientProviderError


@shared_task
def provision_order(order_id: int) -> str:
    """Provision a paid order. A retry's time is kept on the order (``next_attempt_at``) and
    sent by ``dispatch_due``, never held as a countdown in the broker."""
    try:
        return provisioning.provision_order(order_id)
    except (provisioning.ProvisioningBusy, TransientProviderError):
        return "retry scheduled"


@shared_task
def process_webhook_event(event_id: int) -> None:
    """Act on a recorded payment event; one that may succeed later keeps its next try's time."""
    try:
        payment_events.process_webhook_event(event_id)
    except payment_events.RetryLater:
        return


@shared_task
def send_refund(refund_id: int) -> None:
    """Send a refund recorded here (e.g. of a duplicate payment) to its gateway; one that fails
    for now stays pending and is sent again by ``reconcile_orders``."""
    try:
        refunds.send_refund(refund_id=refund_id)
    except GatewayError:
        return


@shared_task(soft_time_limit=60, time_limit=90)
def expire_payment(payment_id: int) -> None:
    """Close a superseded payment attempt's checkout at its gateway (best effort)."""
    try:
        payments.expire_payment(payment_id=payment_id)
    except GatewayError:
        return


@shared_task(soft_time_limit=120, time_limit=150)
def charge_mobile_account(payment_id: int) -> None:
    """Ask JazzCash / Easypaisa to charge a wallet number (the customer approves on the phone);
    one the wallet did not answer is sent again by ``reconcile_wallet_payments``."""
    try:
        local_wallets.charge_mobile_account(payment_id=payment_id)
    except GatewayError:
        return


@shared_task(soft_time_limit=120, time_limit=150)
def reconcile_wallet_payments() -> dict:
    """Periodic: ask the wallets about attempts whose callback is late, end expired ones."""
    return local_wallets.reconcile_wallet_payments()


@shared_task
def cancel_refunded_sims(order_id: int) -> int:
    """Cancel upstream the eSIMs of a fully refunded purchase (retried through the order's
    next attempt time)."""
    return provisioning.cancel_refunded_sims(order_id)


@shared_task(soft_time_limit=60, time_limit=90)
def dispatch_due() -> dict:
    """Periodic, every few seconds: send the orders and payment events whose next try is due."""
    return {
        "orders": provisioning.dispatch_due(),
        "events": payment_events.dispatch_due_events(),
    }


@shared_task(soft_time_limit=60, time_limit=90)
def send_order_ready_email(order_id: int) -> None:
    notifications.send_order_ready_email(order_id)


@shared_task(soft_time_limit=120, time_limit=180)
def send_unsent_ready_emails() -> int:
    """Periodic: send the order-ready emails that were not sent (a lost task, a failed send)."""
    return notifications.send_unsent_ready_emails()


@shared_task(soft_time_limit=60, time_limit=90)
def send_replacement_email(ticket_id: int, event: str) -> None:
    notifications.send_replacement_email(ticket_id, event)


@shared_task
def cancel_replaced_profile(sim_id: int) -> None:
    """Retire the replaced SIM's profile upstream so it stops working."""
    provisioning.cancel_replaced_profile(sim_id)


@shared_task
def reconcile_orders() -> dict:
    """Periodic: make due the orders that have no next attempt time, and send refunds that
    did not reach their gateway."""
    order_ids = list(provisioning.stuck_orders())
    Order.objects.filter(pk__in=order_ids).update(next_attempt_at=timezone.now())
    refund_ids = list(refunds.unsent_refunds())
    for refund_id in refund_ids:
        send_refund.delay_on_commit(refund_id)
    return {"made_due": len(order_ids), "refunds": len(refund_ids), "sent": dispatch_due()}


@shared_task
def sync_usage(provider_id: int | None = None) -> dict:
    """Periodic: read usage for SIMs due a sync, within each provider's rate limit."""
    return usage.sync_usage(provider_id=provider_id)


@shared_task
def run_auto_renewals() -> dict:
    """Periodic: charge saved cards for SIMs due to renew, retry declines once (never twice)."""
    from orders.services.autorenew.charges import run_auto_renewals as run

    return run()


# Partner webhooks and reminders: the task names are the ones they had in accounts, so that the
# beat schedule and messages already queued under those names keep working.


@shared_task(name="accounts.tasks.deliver_webhook", soft_time_limit=60, time_limit=90)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of an outgoing webhook delivery, if it is due (see partner_webhooks.delivery)."""
    return delivery.deliver(delivery_id)


@shared_task(name="accounts.tasks.send_due_webhooks", soft_time_limit=60, time_limit=90)
def send_due_webhooks() -> int:
    """Every 10 seconds: hand deliveries whose next attempt is due to workers."""
    return delivery.dispatch_due()


@shared_task(name="accounts.tasks.send_reminders")
def send_reminders() -> dict[str, int]:
    """Every 15 minutes: expiry and low-data reminders (each sent once per SIM and period)."""
    return reminders.send_reminders()
