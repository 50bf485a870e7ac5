"""Imports run one way: core → accounts → plans → help → orders → support → portal."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT

PACKAGES = ["core", "accounts", "plans", "help", "orders", "support", "portal"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(command), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True
    )


def copy_of_the_repo(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_imports_follow_the_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_base_importing_an_app_breaks_the_contract(tmp_path):
    repo = copy_of_the_repo(tmp_path)
    money = repo / "core" / "money.py"
    money.write_text(money.read_text() + "\nfrom orders.models import Order  # noqa\n")
    result = lint_imports(repo)
    assert result.returncode != 0, result.stdout
    assert "core.money -> orders.models" in result.stdout


def test_an_app_importing_the_shell_breaks_the_contract(tmp_path):
    repo = copy_of_the_repo(tmp_path)
    roles = repo / "accounts" / "roles.py"
    roles.write_text(roles.read_text() + "\nimport portal.urls  # noqa\n")
    result = lint_imports(repo)
    assert result.returncode != 0, result.stdout
    assert "accounts.roles -> portal.urls" in result.stdout


def test_an_app_importing_a_higher_app_breaks_the_contract_even_inside_a_function(tmp_path):
    repo = copy_of_the_repo(tmp_path)
    services = repo / "accounts" / "services.py"
    services.write_text(
        services.read_text() + "\n\ndef orders_of(user):\n"
        "    from orders.models import Order  # noqa\n\n    return Order.objects.none()\n"
    )
    result = lint_imports(repo)
    assert result.returncode != 0, result.stdout
    assert "accounts.services -> orders.models" in result.stdout
