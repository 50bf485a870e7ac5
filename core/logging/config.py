"""The logging configuration shared by Django (``settings.LOGGING``), Celery and gunicorn."""

import os
from collections.abc import Mapping

FORMATS = ("json", "plain")
HERE = "core.logging.formatting"


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """``LOG_FORMAT`` when set (json or plain), else JSON in production and plain otherwise."""
    chosen = environ.get("LOG_FORMAT", "").strip().lower()
    if not chosen:
        return "json" if environ.get("PORTAL_MODE") == "production" else "plain"
    if chosen not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)} (got {chosen!r}).")
    return chosen


def logging_config(fmt: str, level: str) -> dict:
    """Every record through one stderr handler in ``fmt``, with its context and secrets redacted."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": f"{HERE}.ContextFilter"},
            "redact": {"()": f"{HERE}.RedactFilter"},
        },
        "formatters": {
            "json": {"()": f"{HERE}.JsonFormatter"},
            "plain": {"()": f"{HERE}.PlainFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (console when DEBUG, runserver's) give way to the one above.
            "django": {"handlers": [], "level": "NOTSET", "propagate": True},
            "django.server": {"handlers": [], "level": "NOTSET", "propagate": True},
            "django.db.backends": {"level": "INFO"},
        },
    }


def gunicorn_logging_config(fmt: str, level: str) -> dict:
    """``logging_config`` with gunicorn's error and access logs going through the same handler."""
    config = logging_config(fmt, level)
    config["filters"]["access"] = {"()": f"{HERE}.AccessLogFilter"}
    config["loggers"]["gunicorn.error"] = {"level": level, "handlers": [], "propagate": True}
    config["loggers"]["gunicorn.access"] = {
        "level": "INFO",
        "handlers": [],
        "propagate": True,
        "filters": ["access"],
    }
    return config
