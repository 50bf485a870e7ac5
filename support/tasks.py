"""Support emails, sent after commit; each is safe to run twice (the message is claimed). A send
that fails gives its claim back, and the periodic sweep sends it again (no retry waits in the
broker)."""

from celery import shared_task

from support import attachments, notifications


@shared_task(soft_time_limit=60, time_limit=90)
def notify_customer(message_id: int) -> bool:
    """Email the customer a staff answer."""
    return notifications.email_customer(message_id)


@shared_task(soft_time_limit=60, time_limit=90)
def notify_staff(message_id: int) -> bool:
    """Email the support inbox a customer's message."""
    return notifications.email_staff(message_id)


@shared_task(soft_time_limit=120, time_limit=180)
def send_unsent_emails() -> int:
    """Periodic: send the messages' emails that were not sent (a failed send, a lost task)."""
    return notifications.send_unsent()


@shared_task(soft_time_limit=600, time_limit=660)
def delete_orphan_screenshots() -> int:
    """Daily: delete stored screenshots whose message was never committed."""
    return attachments.delete_orphan_screenshots()
