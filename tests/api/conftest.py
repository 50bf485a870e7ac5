"""Fixtures for the partner API: the world partner, its client, and a second partner's client."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from redis.connection import Connection
from rest_framework.test import APIClient

from accounts.models import Partner, PriceTier
from accounts.services import issue_api_key
from core.money import Currency
from orders.models import Sim, WalletEntry
from orders.services.wallet import record_entry
from plans.models import Operator, Plan
from tests.factories import make_iccid
from tests.worlds import build_partner


def client_for(plaintext: str) -> APIClient:
    """A DRF test client that sends ``Authorization: Bearer <plaintext>``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def api_partner(world_catalog):
    """The partner of ``tests.worlds`` (silver tier, PKR wallet funded with
    ``PARTNER_OPENING_BALANCE``) over its catalog."""
    return build_partner()


@pytest.fixture
def api_key(api_partner):
    """A fresh API key of the world partner (``.api_key`` row and ``.plaintext``)."""
    return issue_api_key(partner=api_partner, name="Test key")


@pytest.fixture
def api_client(api_key):
    """An APIClient authenticated as the world partner."""
    return client_for(api_key.plaintext)


@pytest.fixture
def other_partner(api_partner):
    """A second partner (standard tier, PKR, funded wallet) on the same catalog."""
    partner = Partner.objects.create(
        name="Karachi Tours",
        slug="karachi-tours",
        contact_email="api@karachi-tours.example",
        tier=PriceTier.STANDARD,
        currency=Currency.PKR,
    )
    record_entry(
        partner=partner,
        kind=WalletEntry.Kind.TOP_UP,
        amount=Decimal("50000"),
        currency=partner.currency,
        reason="Test opening balance",
    )
    return partner


@pytest.fixture
def other_partner_client(other_partner):
    """An APIClient authenticated as the second partner."""
    return client_for(issue_api_key(partner=other_partner, name="Other key").plaintext)


@pytest.fixture
def plan_by_sku(api_partner):
    """Look up a catalog plan by SKU, e.g. ``jazz-esim-week-10gb`` or ``jazz-recharge-100``."""
    return lambda sku: Plan.objects.get(provider_sku=sku)


@pytest.fixture
def make_sims(api_partner):
    """Bulk-create ``count`` active eSIMs for a partner (default: the world partner)."""

    def make(count, *, partner=None, operator="jazz", start=0, **fields):
        operator = Operator.objects.get(code=operator)
        defaults = {
            "partner": partner or api_partner,
            "operator": operator,
            "status": Sim.Status.ACTIVE,
            "data_total_mb": 10240,
            "data_remaining_mb": 4096,
            "expires_at": timezone.now() + timedelta(days=7),
        }
        sims = [
            Sim(
                iccid=make_iccid(start + n),
                activation_code=f"LPA:1$smdp.sandbox.example$M{start + n}",
                **{**defaults, **fields},
            )
            for n in range(count)
        ]
        return Sim.objects.bulk_create(sims)

    return make


@pytest.fixture
def partner_sim(make_sims):
    """One active Jazz eSIM of the world partner."""
    return make_sims(1, start=900_000)[0]


@pytest.fixture
def redis_round_trips(monkeypatch) -> list:
    """Every packed command sent to Redis from now on: one entry per round trip."""
    sent = []
    original = Connection.send_packed_command

    def counting(self, *args, **kwargs):
        sent.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    return sent
