"""Repository-wide rules that are cheap to check on every run."""

import re
import subprocess
import sys

from tests.processes import ROOT

APP_DIRS = ["portal", "accounts", "plans", "orders"]


def test_ruff_lint_and_format_are_clean():
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_tasks_are_only_sent_after_commit():
    """Application code sends tasks with delay_on_commit, never with delay()/apply_async()."""
    offenders = []
    for app in APP_DIRS:
        for path in (ROOT / app).rglob("*.py"):
            if "management" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"\.(delay|apply_async)\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
