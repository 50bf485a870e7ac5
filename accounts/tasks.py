"""Account tasks: thin wrappers around services. Safe to run twice."""

from celery import shared_task

from accounts import documents


@shared_task
def purge_identity_documents() -> int:
    """Daily: delete the document files of decided identity checks past retention."""
    purged = documents.purge_decided_documents()
    documents.delete_orphan_files()
    return purged


@shared_task
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt of an outgoing webhook delivery, if it is due (see accounts.webhook_delivery)."""
    from accounts import webhook_delivery

    return webhook_delivery.deliver(delivery_id)


@shared_task
def send_due_webhooks() -> int:
    """Every minute: hand deliveries whose next attempt is due to workers."""
    from accounts import webhook_delivery

    return webhook_delivery.dispatch_due()


@shared_task
def send_reminders() -> dict[str, int]:
    """Every 15 minutes: expiry and low-data reminders (each sent once per SIM and period)."""
    from accounts import reminders

    return reminders.send_reminders()
