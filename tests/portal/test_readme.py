"""The README's configuration table names every environment variable the portal reads."""

import ast
import re

from tests.processes import ROOT

# Python files whose environment reads are configuration (the settings and what they call).
SETTINGS_FILES = ("portal/settings.py", "core/logging/config.py")
# Shell files of `make run`: variables read with a default, ``${NAME:-default}``.
RUN_FILES = ("Procfile", "scripts/run")
READERS = {"env", "os.environ.get", "os.getenv", "environ.get"}


def _reader(func: ast.expr) -> bool:
    name = ast.unparse(func)
    return name in READERS or (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
    )


def variables_read() -> set[str]:
    """Names read from the environment by the settings and by `make run`'s shell files."""
    names = set()
    for path in SETTINGS_FILES:
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if (
                isinstance(node, ast.Call)
                and _reader(node.func)
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    for path in RUN_FILES:
        names.update(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", (ROOT / path).read_text()))
    return names


def configuration_table() -> set[str]:
    """Variables named in the first column of the README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| ([^|]+) \|", section, re.M)
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_every_variable_read_is_in_the_configuration_table():
    read = variables_read()
    assert {"SECRET_KEY", "LOG_FORMAT", "PORTAL_PORT", "API_RATE_LIMIT_PER_MINUTE"} <= read
    assert read - configuration_table() == set()
