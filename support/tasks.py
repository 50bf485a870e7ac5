"""Support emails, sent after commit; each is safe to run twice (the message is claimed)."""

from celery import shared_task

from support import notifications


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, max_retries=5)
def notify_customer(message_id: int) -> bool:
    """Email the customer a staff answer."""
    return notifications.email_customer(message_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, max_retries=5)
def notify_staff(message_id: int) -> bool:
    """Email the support inbox a customer's message."""
    return notifications.email_staff(message_id)
