"""Filters and formatters of the portal's log handlers (``settings.LOGGING`` and gunicorn's)."""

import logging
import socket
from datetime import UTC, datetime

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

from core.logging.context import request_id_var, task_id_var, task_name_var
from core.logging.redaction import redact, redact_values

CONTEXT = {"request_id": request_id_var, "task_id": task_id_var, "task_name": task_name_var}
# gunicorn access log atoms (deploy/gunicorn.conf.py) given their own JSON fields
ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}
# Record attributes that are objects, not log fields (Django's request, runserver's time)
NOT_FIELDS = ("request", "server_time")


def utc_time(record: logging.LogRecord) -> str:
    """The record's time in UTC, ISO 8601 with milliseconds and offset."""
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class ContextFilter(logging.Filter):
    """Adds the request id and the running task (None outside them) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for field, variable in CONTEXT.items():
            if getattr(record, field, None) is None:
                setattr(record, field, variable.get())
        return True


class RedactFilter(logging.Filter):
    """Replaces secrets and activation codes in the message (its arguments merged into it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = redact_values(record.msg)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it when formatting
            return True
        record.msg, record.args = redact(message), ()
        return True


class AccessLogFilter(logging.Filter):
    """gunicorn's access records: the request id and the request's figures as fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else {}
        for atom, field in ACCESS_FIELDS.items():
            value = dict.get(atoms, atom)
            setattr(record, field, redact(value) if isinstance(value, str) else value)
        record.request_id = dict.get(atoms, "{x-request-id}o") or None
        return True


class RedactingFormatterMixin:
    def formatTime(self, record, datefmt=None):
        return utc_time(record)

    def formatException(self, ei):
        return redact(super().formatException(ei))

    def formatStack(self, stack_info):
        return redact(super().formatStack(stack_info))


class JsonFormatter(RedactingFormatterMixin, LibraryJsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, task_id, task_name,
    process, host, then ``exception`` and any extra fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            ["asctime", "levelname", "name", "message", *CONTEXT, "process"],
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "exception",
                "stack_info": "stack",
            },
            static_fields={"host": socket.gethostname()},
            reserved_attrs=[*RESERVED_ATTRS, *NOT_FIELDS],
            json_ensure_ascii=False,
        )

    def process_log_record(self, log_data: dict) -> dict:
        """Extra fields are redacted too (Celery's task arguments and results, for one)."""
        return redact_values(log_data)


class PlainFormatter(RedactingFormatterMixin, logging.Formatter):
    """``time level logger [req=<id> task=<name>[<id>]] message`` for development."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = []
        if getattr(record, "request_id", None):
            context.append(f"req={record.request_id}")
        if getattr(record, "task_id", None):
            context.append(f"task={record.task_name}[{record.task_id}]")
        label = f"[{' '.join(context)}] " if context else ""
        return f"{record.asctime} {record.levelname} {record.name} {label}{record.message}"

    def usesTime(self) -> bool:
        return True
