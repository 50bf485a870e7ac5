"""The pinned requirement levels agree: development and `make run` install every production pin."""

import re

import pytest

from tests.processes import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", re.MULTILINE)


def pins(text: str) -> dict[str, str]:
    return {name.lower().split("[")[0]: version for name, version in PIN.findall(text)}


def level_pins(level: str) -> dict[str, str]:
    return pins((ROOT / "requirements" / f"{level}.txt").read_text())


def not_installed(production: dict[str, str], installed: dict[str, str]) -> dict[str, str]:
    """Production pins that the other level lacks or pins at another version."""
    return {name: version for name, version in production.items() if installed.get(name) != version}


@pytest.mark.parametrize("level", ["run", "dev"])
def test_every_production_pin_is_installed_at_the_same_version(level):
    assert not_installed(level_pins("base"), level_pins(level)) == {}


def test_a_missing_or_different_pin_is_reported():
    production = pins("celery==5.7.0\ncelery-redbeat==2.4.2\n    # via x\ndjango==5.2.19\n")
    installed = pins("celery==5.7.0\ndjango==5.2.18\n")
    assert not_installed(production, installed) == {"celery-redbeat": "2.4.2", "django": "5.2.19"}
