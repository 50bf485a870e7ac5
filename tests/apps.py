"""The portal's own packages, as the import contract lists them (pyproject.toml): every check
that walks the project's code reads them here, so a new app is checked the day it is added."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_APPS = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
)
