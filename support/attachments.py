"""Screenshots sent to support: checked and re-encoded by the identity documents' sanitizer,
encrypted with the same keys, stored under our own names."""

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

from accounts.documents import (
    DocumentRejected,
    SanitizedImage,
    delete_unreferenced_files,
    read_encrypted,
    rotate_files,
    sanitize_image,
    save_encrypted,
)
from support.errors import SupportError
from support.models import Attachment, Message

STORAGE_DIR = "support"


def sanitize_screenshots(uploads) -> list[SanitizedImage]:
    """Check every upload before anything is stored; the first refusal is raised."""
    uploads = [upload for upload in uploads or [] if upload]
    if len(uploads) > settings.SUPPORT_MAX_SCREENSHOTS:
        message = _("Please attach at most %(count)d screenshots.")
        raise SupportError(
            "too_many_screenshots",
            message % {"count": settings.SUPPORT_MAX_SCREENSHOTS},
            "screenshots",
        )
    try:
        return [sanitize_image(upload) for upload in uploads]
    except DocumentRejected as rejected:
        raise SupportError(rejected.code, rejected.message, "screenshots") from rejected


def store_screenshots(message: Message, images: list[SanitizedImage]) -> None:
    """Encrypt and store sanitized images for ``message``; files are removed if the rows fail
    (and by :func:`delete_orphan_screenshots` if the surrounding transaction rolls back later)."""
    saved = []
    try:
        for image in images:
            name = save_encrypted(STORAGE_DIR, image.content)
            saved.append(name)
            Attachment.objects.create(
                message=message,
                file=name,
                content_type=image.content_type,
                size_bytes=len(image.content),
                sha256=image.sha256,
            )
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise


def read_screenshot(attachment: Attachment) -> bytes:
    """The sanitized JPEG of ``attachment``."""
    return read_encrypted(attachment.file.name)


def delete_orphan_screenshots() -> int:
    """Delete stored screenshots no attachment points to: a message's transaction that rolled
    back after they were stored, or a process that died before it committed."""
    return delete_unreferenced_files(STORAGE_DIR, Attachment)


def rotate_screenshot_keys() -> int:
    """Re-encrypt every stored screenshot with the first of the identity documents' keys."""
    return rotate_files(Attachment.objects.all(), STORAGE_DIR)
