"""`scripts/bootstrap` says what it does: a first install shows pip's progress package by
package, a later update after a lock change is one line, an unchanged lock prints nothing."""

import shutil
import subprocess

import pytest

from tests.processes import ROOT

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "{calls}"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
if [ "$1 $2" = "-m pip" ]; then echo "Collecting Django==5.2"; fi
"""


@pytest.fixture
def checkout(tmp_path):
    """A copy of the bootstrap script and pins, with a python that records its calls."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts/bootstrap", tmp_path / "scripts/bootstrap")
    (tmp_path / "requirements").mkdir()
    for level in ("base", "run", "dev"):
        (tmp_path / f"requirements/{level}.txt").write_text("django==5.2\n")
    python = tmp_path / "python-for-bootstrap"
    python.write_text(FAKE_PYTHON.format(calls=tmp_path / "calls.log"))
    python.chmod(0o755)
    return tmp_path


def bootstrap(checkout, level: str = "run") -> tuple[str, list[str]]:
    """Run the script; its output and every call to python so far."""
    result = subprocess.run(
        ["bash", "scripts/bootstrap", level],
        cwd=checkout,
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(checkout / "python-for-bootstrap")},
        capture_output=True,
        text=True,
        check=True,
    )
    calls = (checkout / "calls.log").read_text().splitlines()
    return result.stdout, calls


def test_first_install_shows_each_step_and_pips_progress(checkout):
    output, calls = bootstrap(checkout)
    assert output.splitlines() == [
        "Creating the virtual environment in .venv …",
        "First run: installing the pinned packages from requirements/run.txt (a few minutes) …",
        "Collecting Django==5.2",
        "Packages installed.",
    ]
    assert calls[-1] == "-m pip install --disable-pip-version-check -r requirements/run.txt"


def test_unchanged_pins_print_nothing_and_a_changed_lock_updates_quietly(checkout):
    bootstrap(checkout)
    output, calls = bootstrap(checkout)
    assert output == "" and len(calls) == 2
    (checkout / "requirements/run.txt").write_text("django==5.2.1\n")
    output, calls = bootstrap(checkout)
    assert (
        output.splitlines()[0] == "Updating the packages from requirements/run.txt (it changed) …"
    )
    assert calls[-1].startswith("-m pip install --quiet ")
