"""Staff credit and debit partner wallets in the admin, with a reason; Support cannot."""

from decimal import Decimal

import pytest

from accounts.roles import FINANCE, SUPPORT, sync_staff_roles
from core.models import AuditEntry
from orders.models import WalletEntry
from tests.factories import PartnerFactory, UserFactory, WalletEntryFactory
from tests.staff import login_staff

pytestmark = pytest.mark.django_db

PARTNER_OPENING_BALANCE = Decimal("50000")


@pytest.fixture
def funded_partner():
    """A partner whose wallet was topped up with 50,000 PKR."""
    partner = PartnerFactory()
    WalletEntryFactory(partner=partner, amount=PARTNER_OPENING_BALANCE)
    return partner


def staff_in(group_name):
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[group_name])
    return user


def url(partner):
    return f"/admin/accounts/partner/{partner.pk}/wallet/"


def test_finance_credits_and_debits_with_a_reason(client, funded_partner):
    finance = staff_in(FINANCE)
    login_staff(client, finance)
    assert client.get(url(funded_partner)).status_code == 200
    client.post(url(funded_partner), {"amount": "2500", "reason": "Bank transfer FT-778"})
    client.post(url(funded_partner), {"amount": "-100", "reason": "Correction"})
    assert WalletEntry.balance_of(funded_partner) == PARTNER_OPENING_BALANCE + Decimal("2400")
    entry = WalletEntry.objects.filter(reason="Bank transfer FT-778").get()
    assert entry.created_by == finance and entry.kind == "top_up"
    assert AuditEntry.objects.filter(action="wallet.adjusted", actor=finance).count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "0", "reason": "x"},
        {"amount": "10", "reason": ""},
        {"amount": "abc", "reason": "x"},
    ],
)
def test_bad_input_changes_nothing(client, funded_partner, data):
    login_staff(client, staff_in(FINANCE))
    response = client.post(url(funded_partner), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert WalletEntry.balance_of(funded_partner) == PARTNER_OPENING_BALANCE


def test_support_cannot_touch_wallets(client, funded_partner):
    login_staff(client, staff_in(SUPPORT))
    assert client.get(url(funded_partner)).status_code == 403
    assert client.post(url(funded_partner), {"amount": "5", "reason": "x"}).status_code == 403


def test_partner_list_shows_the_ledger_balance(
    client, funded_partner, signed_in_superuser, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = client.get("/admin/accounts/partner/")
    assert "50000" in response.content.decode().replace(",", "")
