import pytest

from tests.orders.conftest import catalog, esim_plan  # noqa: F401


@pytest.fixture(autouse=True)
def _help_content(help_content):
    """Every help test reads the articles and phones the portal ships with."""
