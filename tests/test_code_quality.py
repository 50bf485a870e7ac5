"""Repository-wide rules that are cheap to check on every run."""

import re
import subprocess
import sys

from tests.apps import PROJECT_APPS
from tests.processes import ROOT

APP_DIRS = PROJECT_APPS


def test_ruff_lint_and_format_are_clean():
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_task_waits_in_the_broker():
    """Retries and delays are a time in the database sent by a dispatcher, never a countdown."""
    offenders = []
    for app in APP_DIRS:
        for path in (ROOT / app).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"[(,]\s*(countdown|eta)=|self\.retry\(|autoretry_for", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_tasks_are_only_sent_after_commit():
    """Application code sends tasks with delay_on_commit, never with delay()/apply_async()
    (except the task base that implements delay_on_commit)."""
    offenders = []
    for app in APP_DIRS:
        for path in (ROOT / app).rglob("*.py"):
            if "management" in path.parts or path == ROOT / "portal" / "celery.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.(delay|apply_async)\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# A stored time is UTC; a page shows it in Asia/Karachi. Formatting or taking the date of a
# stored time directly (``paid_at.strftime(...)``, ``expires_at.date()``) compares the wrong day
# from 19:00 UTC: use tests.clock.site_date (or timezone.localdate) instead.
UTC_DATE_OF_A_STORED_TIME = re.compile(r"_at\)?\.(strftime\(|date\(\)|isoformat\(\)\[:10\])")


def test_tests_take_dates_in_the_sites_time_zone():
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name == "test_code_quality.py":  # the examples below
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UTC_DATE_OF_A_STORED_TIME.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_date_check_catches_a_utc_date_compared_with_a_page():
    assert UTC_DATE_OF_A_STORED_TIME.search('order.paid_at.strftime("%Y-%m-%d") in body')
    assert UTC_DATE_OF_A_STORED_TIME.search("sim.expires_at.date() == page_date")
    assert not UTC_DATE_OF_A_STORED_TIME.search("site_date(order.paid_at) in body")


# Tests build their world with tests.factories / tests.worlds; only the demo's own tests load it.
DEMO_USE = re.compile(
    r"\bload_demo(_data)?\b|\bportal\.demo\b|from portal import demo\b"
    r"|\b(demo_data|signed_in_demo_staff|demo_partner)\b"
)
DEMO_TESTS = re.compile(r"tests/portal/test_demo\w*\.py")


def test_only_the_demos_own_tests_use_the_demo():
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if DEMO_TESTS.fullmatch(relative) or path.name == "test_code_quality.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if DEMO_USE.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_the_demo_check_catches_a_test_that_loads_the_demo():
    assert DEMO_USE.search("from portal.demo import CUSTOMER_EMAIL, load_demo_data")
    assert DEMO_USE.search('call_command("load_demo")')
    assert DEMO_USE.search("def test_refund(client, signed_in_demo_staff):")
    assert not DEMO_USE.search("from tests.worlds import build_world")
