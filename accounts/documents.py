"""Identity document files: sanitized on upload, encrypted at rest, purged after the decision.

Uploads (JPEG, PNG, HEIC by content) are decoded and re-encoded as a bare JPEG, encrypted with
``settings.IDENTITY_DOCUMENT_KEYS`` (the first encrypts, all decrypt) and stored under our names.
"""

import hashlib
import io
import logging
import re
import threading
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import groupby
from operator import attrgetter

import pillow_heif
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps

from accounts.models import IdentityCheck, IdentityDocument
from core import audit
from core.sweeps import item_failure_logged

logger = logging.getLogger(__name__)
pillow_heif.register_heif_opener()

STORAGE_DIR = "identity"
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.bin$")
ORPHAN_AGE = timedelta(days=1)  # a stored file without its row is deleted after this
ORPHAN_BATCH = 500  # stored names looked up per query
_HEIF_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"hevc"}
# Polyglot traces. Tags need a delimiter and zip headers a sane version: photo data rarely matches.
_SUSPICIOUS_TEXT = re.compile(rb"<(?:script|svg|html)[\s/>]|<\?(?:php|xml)", re.IGNORECASE)
_SUSPICIOUS_BINARY = re.compile(rb"%PDF-|PK\x03\x04[\x00-\x3f]\x00")
_pillow_lock = threading.Lock()  # Pillow's limits are module globals: one sanitizer at a time
_DECIDED = [status for status in IdentityCheck.Status if status != IdentityCheck.Status.PENDING]

MESSAGES = {
    "unsupported_type": _("Please upload a photo in JPEG, PNG or HEIC format."),
    "too_many_pixels": _("This image has too many pixels. Please upload a smaller photo."),
    "corrupt": _("This image could not be read. It may be damaged: please take the photo again."),
    "suspicious_content": _("This file holds more than a photo. Please upload the original photo."),
}


class DocumentRejected(Exception):
    """An upload that is not accepted; ``message`` can be shown to the customer."""

    def __init__(self, code: str, message=None):
        self.code = code
        self.message = message or MESSAGES[code]
        super().__init__(code)


class DocumentPurged(Exception):
    """The document's file was deleted by the retention purge (or is missing)."""


class DocumentTampered(Exception):
    """The stored file decrypts, but not to the image recorded for this document."""


@dataclass(frozen=True)
class SanitizedImage:
    """An upload re-encoded as a bare JPEG, with its size and hash."""

    content: bytes = field(repr=False)
    width: int
    height: int
    sha256: str
    content_type: str = "image/jpeg"


def _read_limited(upload, limit: int) -> bytes:
    """Read the upload, never more than ``limit + 1`` bytes."""
    if (getattr(upload, "size", None) or 0) <= limit:
        if hasattr(upload, "seek"):
            upload.seek(0)
        data = upload.read(limit + 1)
        if len(data) <= limit:
            return data
    message = _("This file is too large. Photos may be up to {megabytes} MB.")
    raise DocumentRejected("too_large", format_lazy(message, megabytes=f"{limit / 2**20:g}"))


def _sniff(data: bytes) -> str:
    """The Pillow format name the magic bytes announce."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    raise DocumentRejected("unsupported_type")


@contextmanager
def _pillow_limits(max_pixels: int):
    """Pillow's pixel limit set to ours, its bomb warning an error, truncated images refused."""
    with _pillow_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = max_pixels, False
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _open(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    """Read only the header, and refuse too many pixels before anything is decoded."""
    image = Image.open(io.BytesIO(data), formats=[fmt])
    if image.width * image.height > max_pixels:
        raise DocumentRejected("too_many_pixels")
    return image


def _reencode(data: bytes, fmt: str, max_pixels: int, max_side: int) -> Image.Image:
    """Decode, turn upright, flatten to RGB and shrink; the result carries no metadata."""
    _open(data, fmt, max_pixels).verify()
    image = _open(data, fmt, max_pixels)
    if fmt == "JPEG":
        image.draft("RGB", (max_side, max_side))
    image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
    else:
        flat = image.convert("RGB")
    flat.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    bare = Image.new("RGB", flat.size)
    bare.paste(flat)
    return bare


def sanitize_image(upload) -> SanitizedImage:
    """Check an upload and re-encode it as a JPEG without any metadata."""
    max_pixels = settings.IDENTITY_UPLOAD_MAX_PIXELS
    data = _read_limited(upload, settings.IDENTITY_UPLOAD_MAX_BYTES)
    fmt = _sniff(data)
    if data.startswith(b"#!") or _SUSPICIOUS_TEXT.search(data) or _SUSPICIOUS_BINARY.search(data):
        raise DocumentRejected("suspicious_content")
    with _pillow_limits(max_pixels):
        try:
            image = _reencode(data, fmt, max_pixels, settings.IDENTITY_IMAGE_MAX_SIDE)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)
        except DocumentRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DocumentRejected("too_many_pixels") from exc
        except Exception as exc:
            raise DocumentRejected("corrupt") from exc
    content = out.getvalue()
    return SanitizedImage(content, image.width, image.height, hashlib.sha256(content).hexdigest())


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.IDENTITY_DOCUMENT_KEYS])


def encrypt(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return _fernet().decrypt(token)


def save_encrypted(directory: str, content: bytes) -> str:
    """Encrypt ``content`` with the first key and store it under a new name in ``directory``
    (32 hex digits, ``.bin``); the stored name."""
    return _save_token(directory, encrypt(content))


def read_encrypted(name: str) -> bytes:
    """The content stored encrypted under ``name`` (raises ``FileNotFoundError`` when gone)."""
    return decrypt(_read_stored(name))


def _save_token(directory: str, token: bytes) -> str:
    return default_storage.save(f"{directory}/{uuid.uuid4().hex}.bin", ContentFile(token))


def store_document(*, check, kind, upload) -> IdentityDocument:
    """Sanitize, encrypt and store one upload (or an already sanitized image) for ``check``."""
    if kind not in IdentityDocument.Kind.values:
        raise ValueError(f"Unknown document kind: {kind!r}")
    image = upload if isinstance(upload, SanitizedImage) else sanitize_image(upload)
    name = save_encrypted(STORAGE_DIR, image.content)
    try:
        with transaction.atomic():
            return IdentityDocument.objects.create(
                check_request=check,
                kind=kind,
                file=name,
                content_type=image.content_type,
                size_bytes=len(image.content),
                sha256=image.sha256,
            )
    except BaseException:
        default_storage.delete(name)
        raise


def _read_stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def read_document(document: IdentityDocument) -> bytes:
    """The sanitized JPEG of ``document``."""
    if document.purged_at is not None or not document.file.name:
        raise DocumentPurged(document.pk)
    try:
        token = _read_stored(document.file.name)
    except FileNotFoundError as exc:
        raise DocumentPurged(document.pk) from exc
    content = decrypt(token)
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise DocumentTampered(document.pk)
    return content


def purge_decided_documents(*, now=None) -> int:
    """Delete the files of checks decided more than the retention period ago; keep the hashes."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.IDENTITY_DOCUMENT_RETENTION_DAYS)
    due = (
        IdentityDocument.objects.filter(purged_at__isnull=True, check_request__status__in=_DECIDED)
        .filter(
            Q(check_request__reviewed_at__lt=cutoff)
            | Q(check_request__reviewed_at__isnull=True, check_request__updated_at__lt=cutoff)
        )
        .select_related("check_request")
        .order_by("check_request_id", "pk")
    )
    purged = 0
    for check, documents in groupby(due, key=attrgetter("check_request")):
        with item_failure_logged(logger, "Could not purge identity check %s's documents", check.pk):
            purged += _purge_check(check, list(documents), now)
    return purged


def _purge_check(check, documents, now) -> int:
    for document in documents:
        if document.file.name:
            default_storage.delete(document.file.name)
    with transaction.atomic():
        purged = IdentityDocument.objects.filter(
            pk__in=[d.pk for d in documents], purged_at__isnull=True
        ).update(purged_at=now, file="")
        if purged:
            kept = [{"kind": d.kind, "sha256": d.sha256} for d in documents]
            audit.record(
                action="identity.documents_purged",
                target=check,
                actor_label="retention",
                after={"documents": kept},
            )
    return purged


def delete_orphan_files(*, older_than=ORPHAN_AGE, now=None) -> int:
    """Delete stored files no document points to (e.g. from a rolled-back request)."""
    return delete_unreferenced_files(STORAGE_DIR, IdentityDocument, older_than=older_than, now=now)


def delete_unreferenced_files(directory: str, model, *, older_than=ORPHAN_AGE, now=None) -> int:
    """Delete the files stored under ``directory`` as this module names them (32 hex digits,
    ``.bin``) that no row of ``model`` names in its ``file`` field and that are older than
    ``older_than`` (a request may still be about to commit its row); others are left alone."""
    now = now or timezone.now()
    try:
        _, names = default_storage.listdir(directory)
    except FileNotFoundError:
        return 0
    paths = [f"{directory}/{name}" for name in names if _STORED_NAME.match(name)]
    deleted = 0
    for start in range(0, len(paths), ORPHAN_BATCH):
        batch = paths[start : start + ORPHAN_BATCH]
        known = set(model.objects.filter(file__in=batch).values_list("file", flat=True))
        for path in batch:
            if path not in known and default_storage.get_modified_time(path) < now - older_than:
                default_storage.delete(path)
                deleted += 1
    return deleted


def rotate_document_keys() -> int:
    """Re-encrypt every stored identity document with the first key; how many were."""
    return rotate_files(IdentityDocument.objects.filter(purged_at__isnull=True), STORAGE_DIR)


def rotate_files(stored, directory: str) -> int:
    """Re-encrypt with the first key the files the rows of ``stored`` (a queryset of a model
    with a ``file`` field) name, each under a new name in ``directory``; how many moved. A row
    changed meanwhile keeps its file (the new copy is deleted)."""
    fernet = _fernet()
    rotated = 0
    for pk, old_name in list(stored.exclude(file="").values_list("pk", "file")):
        try:
            token = _read_stored(old_name)
        except FileNotFoundError:
            logger.warning("%s %s has no stored file", stored.model.__name__, pk)
            continue
        new_name = _save_token(directory, fernet.rotate(token))
        moved = stored.filter(pk=pk, file=old_name).update(file=new_name)
        default_storage.delete(old_name if moved else new_name)
        rotated += moved
    return rotated
