"""Reading an uploaded catalog file, with a clear message for every way it can be unusable."""

import io
import zipfile

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export.tmp_storages import CacheStorage

from plans.importing.widgets import is_blank

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # an XLSX is a zip: refuse ones that inflate absurdly
MAX_ROWS = 5000


def read_upload(upload, input_format) -> tablib.Dataset:
    """Parse ``upload`` with ``input_format`` (CSV or XLSX) or raise a ValidationError."""
    extension = input_format.get_extension()
    if not upload.name.lower().endswith(f".{extension}"):
        raise ValidationError(
            _("This is not a .%(extension)s file: choose the format that matches the file.")
            % {"extension": extension}
        )
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is larger than %(megabytes)s MB: split it into smaller files.")
            % {"megabytes": MAX_FILE_BYTES // (1024 * 1024)}
        )
    data = b"".join(upload.chunks())
    upload.seek(0)
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    if input_format.is_binary():
        return _read_workbook(data, input_format)
    return _read_text(data, input_format)


def _read_text(data: bytes, input_format) -> tablib.Dataset:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise ValidationError(_("The file is not UTF-8 text: save it as “CSV UTF-8” and retry."))
    return _parse(text, input_format)


def _read_workbook(data: bytes, input_format) -> tablib.Dataset:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise ValidationError(_("The file is not an Excel workbook (.xlsx).")) from None
    if inflated > MAX_UNZIPPED_BYTES:
        raise ValidationError(_("The workbook is too large: split it into smaller files."))
    return _parse(data, input_format)


def _parse(content, input_format) -> tablib.Dataset:
    try:
        return input_format.create_dataset(content)
    except tablib.InvalidDimensions:
        raise ValidationError(
            _("Some rows have more or fewer cells than the header row has columns.")
        ) from None
    except Exception:
        raise ValidationError(
            _("The file could not be read as %(format)s.") % {"format": input_format.get_title()}
        ) from None


def check_columns(dataset: tablib.Dataset, known: list[str], required: list[str]) -> None:
    """Raise a ValidationError listing missing, unknown and repeated columns and bad sizes."""
    names = [str(name).strip() for name in dataset.headers or [] if not is_blank(name)]
    if not names:
        raise ValidationError(_("The file has no header row with column names."))
    problems = []
    missing = [name for name in required if name not in names]
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    unknown = [name for name in names if name not in known]
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s. The columns are: %(known)s.")
            % {"columns": ", ".join(unknown), "known": ", ".join(known)}
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems.append(
            _("Columns given more than once: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    if problems:
        raise ValidationError(problems)
    if not len(dataset):
        raise ValidationError(_("The file has column names but no rows of plans."))
    if len(dataset) > MAX_ROWS:
        raise ValidationError(
            _("The file has %(rows)s rows; at most %(max)s can be imported at once.")
            % {"rows": len(dataset), "max": MAX_ROWS}
        )


def normalise_headers(dataset: tablib.Dataset) -> None:
    """Strip spaces around column names and drop blank rows at the end (spreadsheets add them)."""
    if dataset.headers:
        dataset.headers = ["" if is_blank(name) else str(name).strip() for name in dataset.headers]
    while len(dataset) and all(is_blank(value) for value in dataset[-1]):
        del dataset[-1]


class SharedImportStorage(CacheStorage):
    """Uploads wait in the cache (shared by every web server) between preview and confirmation."""

    def read(self):
        data = super().read()
        if data is None:  # confirmed already, or expired
            raise FileNotFoundError(self.name)
        return data
