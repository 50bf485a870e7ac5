"""Log lines: their formats, their time zone, the format chosen by the environment, redaction."""

import json
import logging
import socket
import sys
from datetime import UTC, datetime

import pytest
import time_machine

from core.logging.config import log_format
from core.logging.context import request_id_var, task_id_var, task_name_var
from core.logging.formatting import ContextFilter, JsonFormatter, PlainFormatter, RedactFilter
from core.logging.redaction import PATTERNS, redact

# 10:31 in Karachi (UTC+5), where Django puts the process's local time
NOON_IN_KARACHI = datetime(2026, 12, 2, 5, 31, 7, 123456, tzinfo=UTC)


def record(msg="paid %s", args=("order 7",), exc_info=None):
    """A record as the console handler's filters leave it."""
    made = logging.LogRecord(
        "orders.services.payments", logging.WARNING, __file__, 1, msg, args, exc_info
    )
    ContextFilter().filter(made)
    RedactFilter().filter(made)
    return made


def context(request_id, task_id, task_name):
    tokens = [
        (request_id_var, request_id_var.set(request_id)),
        (task_id_var, task_id_var.set(task_id)),
        (task_name_var, task_name_var.set(task_name)),
    ]
    yield
    for variable, token in tokens:
        variable.reset(token)


@pytest.fixture
def in_a_task():
    yield from context("lb-7f3a", "0d9e-task", "orders.tasks.provision_order")


@pytest.fixture
def outside_any_request():
    """(A streaming response that a test never read leaves its request's id behind.)"""
    yield from context(None, None, None)


def test_a_json_line_has_every_field(in_a_task):
    line = json.loads(JsonFormatter().format(record()))
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "orders.services.payments",
        "message": "paid order 7",
        "request_id": "lb-7f3a",
        "task_id": "0d9e-task",
        "task_name": "orders.tasks.provision_order",
        "process": line["process"],
        "host": socket.gethostname(),
    }
    assert isinstance(line["process"], int)


def test_outside_a_request_the_context_fields_are_null(outside_any_request):
    line = json.loads(JsonFormatter().format(record()))
    assert (line["request_id"], line["task_id"], line["task_name"]) == (None, None, None)


def test_json_time_is_utc_iso_8601_with_milliseconds_and_offset():
    with time_machine.travel(NOON_IN_KARACHI, tick=False):
        made = record()
    assert json.loads(JsonFormatter().format(made))["time"] == "2026-12-02T05:31:07.123+00:00"


def test_plain_lines_are_utc_too_and_show_the_request_and_task(in_a_task):
    with time_machine.travel(NOON_IN_KARACHI, tick=False):
        made = record()
    assert PlainFormatter().format(made) == (
        "2026-12-02T05:31:07.123+00:00 WARNING orders.services.payments "
        "[req=lb-7f3a task=orders.tasks.provision_order[0d9e-task]] paid order 7"
    )


def test_plain_lines_outside_a_request_have_no_context_label(outside_any_request):
    assert PlainFormatter().format(record()).endswith(" orders.services.payments paid order 7")


def test_an_exception_is_in_its_own_field_and_redacted():
    try:
        raise RuntimeError("upstream answered LPA:1$smdp.example$SECRET-1")
    except RuntimeError:
        made = record("provisioning failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(made))
    assert line["message"] == "provisioning failed"
    assert "RuntimeError: upstream answered LPA:1$smdp.example$[redacted]" in line["exception"]
    assert "SECRET-1" not in PlainFormatter().format(made)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "plain"),
        ({"PORTAL_MODE": "embedded"}, "plain"),
        ({"PORTAL_MODE": "production"}, "json"),
        ({"PORTAL_MODE": "production", "LOG_FORMAT": "plain"}, "plain"),
        ({"LOG_FORMAT": "JSON"}, "json"),
    ],
)
def test_the_format_follows_the_mode_unless_log_format_says(environ, expected):
    assert log_format(environ) == expected


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        log_format({"LOG_FORMAT": "xml"})


API_KEY = "0f3c9a1b2d4e." + "Zk9_x-Q2" * 5 + "abc"


SHAPES = [
    (
        "issued LPA:1$smdp.sandbox.example$K2-1A2B-3C4D for order 7",
        "issued LPA:1$smdp.sandbox.example$[redacted] for order 7",
    ),
    (
        '{"qrcode": "lpa:1$lpa.airalo.com$TEST-MATCH-01"}',
        '{"qrcode": "lpa:1$lpa.airalo.com$[redacted]"}',
    ),
    ('{"matching_id": "TEST-MATCH-01", "iccid"', '{"matching_id": "[redacted]", "iccid"'),
    ("matchingId=Q-77 smdp", "matchingId=[redacted] smdp"),
    ("key sk_live_51HqLyjWDarjtT1zdp7dc", "key sk_live_[redacted]"),
    ("key sk_test_4eC39HqLyjWDarjtT1zdp7dc", "key sk_test_[redacted]"),
    ("key rk_live_51HqLyjWDarjtT1zdp7dc", "key rk_live_[redacted]"),
    ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret whsec_[redacted]"),
    (f"partner key {API_KEY} refused", "partner key 0f3c9a1b2d4e.[redacted] refused"),
    ("Authorization: Bearer abc.def-123", "Authorization: Bearer [redacted]"),
    (
        "{'HTTP_AUTHORIZATION': 'Basic dXNlcjpwYXNz'}",
        "{'HTTP_AUTHORIZATION': 'Basic [redacted]'}",
    ),
    ('{"X-Api-Key": "k_8f7e6d"}', '{"X-Api-Key": "[redacted]"}'),
    ("sent with bearer eyJhbGciOi.J9", "sent with bearer [redacted]"),
    (
        "cannot reach postgres://portal:s3cr3t@db:5432/portal",
        "cannot reach postgres://portal:[redacted]@db:5432/portal",
    ),
    (
        "broker redis://:hunter2@redis:6379/0 down",
        "broker redis://:[redacted]@redis:6379/0 down",
    ),
    ("GET /sims/8992301234567890123/renew", "GET /sims/8992…0123/renew"),
    ("SIM 89923012345678901234F", "SIM 8992…1234"),
    ("mail to jane.doe+trip@example.com failed", "mail to j…@example.com failed"),
    ("order 7 paid: 1035.92 PKR via https://pay.example/x", None),
]


@pytest.mark.parametrize(("text", "expected"), SHAPES)
def test_secret_shapes_are_redacted(text, expected):
    assert redact(text) == (text if expected is None else expected)
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize(("text", "expected"), SHAPES)
def test_secret_shapes_are_redacted_in_chinese_text_too(text, expected):
    text, expected = f"订单 {text}", f"订单 {text if expected is None else expected}"
    assert redact(text) == expected


def test_patterns_are_skipped_only_when_they_cannot_match():
    """``redact`` runs a pattern only when the text holds one of its hints: the same result as
    every pattern run on the text, for the shapes joined in every order and case."""

    def every_pattern(text: str) -> str:
        for pattern, replacement, _hints in PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    texts = [text for text, _expected in SHAPES] + ["whsec_test_AbC123", "x@89", "a.b://c"]
    for first in texts:
        for second in texts:
            for joined in (first + second, f"{first} {second}", first.upper() + second.lower()):
                assert redact(joined) == every_pattern(joined), joined


def test_a_header_spelled_with_a_dotless_i_is_redacted():
    assert redact("authorızation: s3cr3t-value") == "authorızation: [redacted]"


def test_the_filter_redacts_the_arguments_merged_into_the_message():
    made = record("%s called with %s", ("sk_live_51HqLyj", {"matching_id": "M-1"}))
    assert made.getMessage() == "sk_live_[redacted] called with {'matching_id': '[redacted]'}"
    assert made.args == ()


def test_extra_fields_of_a_json_line_are_redacted_too():
    """Celery logs a task's arguments and result as an extra ``data`` field."""
    made = record("Task %s succeeded", ("orders.tasks.provision_order",))
    made.data = {"return_value": "'LPA:1$smdp.example$K2-1A2B'", "args": ["sk_test_4eC39Hq"]}
    line = json.loads(JsonFormatter().format(made))
    assert line["data"] == {
        "return_value": "'LPA:1$smdp.example$[redacted]'",
        "args": ["sk_test_[redacted]"],
    }
