"""Order tasks: thin wrappers that load by id and call a service. Safe to run twice."""

from celery import shared_task
from django.conf import settings

from orders.payments.base import GatewayError
from orders.services import notifications, payments, provisioning, refunds, usage, webhooks
from plans.providers.base import TransientProviderError
from portal.celery import MAX_TASK_COUNTDOWN_SECONDS

REFUND_MAX_RETRIES = 8


def backoff(retries: int) -> int:
    """Exponential back-off for provider retries, capped below the broker's visibility timeout."""
    return min(settings.PROVISIONING_RETRY_BASE_SECONDS * 2**retries, MAX_TASK_COUNTDOWN_SECONDS)


@shared_task(bind=True, max_retries=None)
def provision_order(self, order_id: int) -> str:
    """Provision a paid order; the attempt cap lives in the database, not in Celery."""
    try:
        return provisioning.provision_order(order_id)
    except provisioning.ProvisioningBusy as busy:
        raise self.retry(countdown=max(1, int(busy.retry_in) + 1)) from busy
    except TransientProviderError as exc:
        countdown = max(backoff(self.request.retries), int(exc.retry_after or 0))
        raise self.retry(countdown=min(countdown, MAX_TASK_COUNTDOWN_SECONDS)) from exc


@shared_task(bind=True, max_retries=None)
def process_webhook_event(self, event_id: int) -> None:
    """Act on a recorded payment event; retried (a bounded number of times) while it may
    succeed later, e.g. a payment row not committed yet or the gateway unreachable."""
    try:
        webhooks.process_webhook_event(event_id)
    except webhooks.RetryLater as exc:
        raise self.retry(countdown=exc.retry_in or backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=REFUND_MAX_RETRIES)
def send_refund(self, refund_id: int) -> None:
    """Send a refund recorded here (e.g. of a duplicate payment) to its gateway."""
    try:
        refunds.send_refund(refund_id=refund_id)
    except GatewayError as exc:
        raise self.retry(countdown=backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=REFUND_MAX_RETRIES)
def expire_payment(self, payment_id: int) -> None:
    """Close a superseded payment attempt's checkout at its gateway."""
    try:
        payments.expire_payment(payment_id=payment_id)
    except GatewayError as exc:
        raise self.retry(countdown=backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=REFUND_MAX_RETRIES)
def cancel_refunded_sims(self, order_id: int) -> int:
    """Cancel upstream the eSIMs of a fully refunded purchase."""
    try:
        return provisioning.cancel_refunded_sims(order_id)
    except TransientProviderError as exc:
        raise self.retry(countdown=backoff(self.request.retries)) from exc


@shared_task
def send_order_ready_email(order_id: int) -> None:
    notifications.send_order_ready_email(order_id)


@shared_task
def send_replacement_email(ticket_id: int, event: str) -> None:
    notifications.send_replacement_email(ticket_id, event)


@shared_task
def cancel_replaced_profile(sim_id: int) -> None:
    """Retire the replaced SIM's profile upstream so it stops working."""
    provisioning.cancel_replaced_profile(sim_id)


@shared_task
def reconcile_orders() -> dict:
    """Periodic: resume provisioning that stopped half-way and events left unprocessed."""
    order_ids = list(provisioning.stuck_orders())
    for order_id in order_ids:
        provision_order.delay_on_commit(order_id)
    event_ids = list(webhooks.unprocessed_events())
    for event_id in event_ids:
        process_webhook_event.delay_on_commit(event_id)
    return {"orders": len(order_ids), "events": len(event_ids)}


@shared_task
def sync_usage(provider_id: int | None = None) -> dict:
    """Periodic: read usage for SIMs due a sync, within each provider's rate limit."""
    return usage.sync_usage(provider_id=provider_id)


@shared_task
def run_auto_renewals() -> dict:
    """Periodic: charge saved cards for SIMs due to renew, retry declines once (never twice)."""
    from orders.services.autorenew_charges import run_auto_renewals as run

    return run()
