"""The role matrix: each staff role can do exactly its own actions in the admin."""

import pytest
from django.urls import reverse

from accounts.roles import (
    ADMINISTRATORS,
    CATALOG_MANAGERS,
    FINANCE,
    IDENTITY_REVIEWERS,
    SUPPORT,
    sync_staff_roles,
)
from core import audit
from tests.factories import OrderFactory, PartnerFactory, UserFactory
from tests.staff import login_staff

pytestmark = pytest.mark.django_db


def opens(client, url: str) -> bool:
    """Whether the page opens (200) rather than being refused (403) or sent to sign in."""
    status = client.get(url).status_code
    assert status in {200, 302, 403}, f"{url}: {status}"
    return status == 200


def offered_actions(client, url: str) -> set[str]:
    response = client.get(url)
    form = response.context.get("action_form") if response.status_code == 200 else None
    return {name for name, _label in form.fields["action"].choices} if form else set()


def capabilities(client, order, partner, entry) -> set[str]:
    order_actions = offered_actions(client, reverse("admin:orders_order_changelist"))
    partner_actions = offered_actions(client, reverse("admin:accounts_partner_changelist"))
    checks = {
        "view orders": opens(client, reverse("admin:orders_order_changelist")),
        "view customers": opens(client, reverse("admin:accounts_user_changelist")),
        "view SIMs": opens(client, reverse("admin:orders_sim_changelist")),
        "retry provisioning": "retry_provisioning" in order_actions,
        "resend emails": "resend_ready_email" in order_actions,
        "cancel orders": "cancel_unpaid" in order_actions,
        "refund": opens(client, reverse("admin:orders_order_refund", args=[order.pk])),
        "confirm manual payments": "confirm_manual_payment" in order_actions,
        "credit wallets": opens(
            client, reverse("admin:accounts_partner_wallet", args=[partner.pk])
        ),
        "review identity checks": opens(client, reverse("admin:accounts_identitycheck_changelist")),
        "edit the catalog": opens(client, reverse("admin:plans_plan_add")),
        "edit prices": opens(client, reverse("admin:plans_partnerpricerule_add")),
        "manage partners": opens(client, reverse("admin:accounts_partner_add")),
        "issue API keys": "issue_key" in partner_actions,
        "read the audit trail": opens(client, reverse("admin:core_auditentry_changelist")),
        "delete audit entries": opens(
            client, reverse("admin:core_auditentry_delete", args=[entry.pk])
        ),
    }
    return {name for name, allowed in checks.items() if allowed}


EVERYTHING = {
    "view orders",
    "view customers",
    "view SIMs",
    "retry provisioning",
    "resend emails",
    "cancel orders",
    "refund",
    "confirm manual payments",
    "credit wallets",
    "review identity checks",
    "edit the catalog",
    "edit prices",
    "manage partners",
    "issue API keys",
    "read the audit trail",
}
MATRIX = {
    SUPPORT: {
        "view orders",
        "view customers",
        "view SIMs",
        "retry provisioning",
        "resend emails",
        "cancel orders",
        "read the audit trail",
    },
    FINANCE: {
        "view orders",
        "view customers",
        "view SIMs",
        "refund",
        "confirm manual payments",
        "credit wallets",
        "read the audit trail",
    },
    IDENTITY_REVIEWERS: {"view customers", "view SIMs", "review identity checks"},
    CATALOG_MANAGERS: {"edit the catalog", "edit prices"},
    ADMINISTRATORS: EVERYTHING,  # but nobody deletes audit entries
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_each_role_can_do_exactly_its_actions(client, role):
    groups = sync_staff_roles()
    user = UserFactory(is_staff=True)
    user.groups.add(groups[role])
    order, partner = OrderFactory(), PartnerFactory()
    entry = audit.record(action="test.entry", target=order, actor_label="test")
    login_staff(client, user)
    assert capabilities(client, order, partner, entry) == MATRIX[role]


def test_staff_without_a_role_can_do_nothing(client):
    order, partner = OrderFactory(), PartnerFactory()
    entry = audit.record(action="test.entry", target=order, actor_label="test")
    login_staff(client, UserFactory(is_staff=True))
    assert capabilities(client, order, partner, entry) == set()
