"""Account tasks: thin wrappers around services. Safe to run twice."""

from celery import shared_task

from accounts import documents


@shared_task
def purge_identity_documents() -> int:
    """Daily: delete the document files of decided identity checks past retention."""
    purged = documents.purge_decided_documents()
    documents.delete_orphan_files()
    return purged
