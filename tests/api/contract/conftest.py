"""Two partners with a key each, made with factories (no demo data)."""

import pytest
from rest_framework.test import APIClient

from accounts.services import issue_api_key
from tests.factories import PartnerFactory


def keyed(partner) -> APIClient:
    client = APIClient()
    key = issue_api_key(partner=partner, name="contract").plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def me(db):
    return PartnerFactory()


@pytest.fixture
def them(db):
    return PartnerFactory()


@pytest.fixture
def api(me):
    """An APIClient with an API key of ``me``."""
    return keyed(me)
