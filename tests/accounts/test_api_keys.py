"""Partner API keys (shown once, stored as an HMAC) and the staff role groups."""

import hashlib
import hmac
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.utils import timezone

from accounts.models import ApiKey, Partner
from accounts.roles import ADMINISTRATORS, ROLE_PERMISSIONS
from accounts.services import find_api_key, issue_api_key, revoke_api_key
from core.audit import entries_for
from tests.factories import PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued():
    return issue_api_key(partner=PartnerFactory(), name="shop till")


def test_plaintext_is_prefix_dot_secret(issued):
    prefix, dot, secret = issued.plaintext.partition(".")

    assert dot == "."
    assert prefix == issued.api_key.prefix
    assert len(secret) >= 32
    assert "." not in prefix


def test_keys_are_unique():
    partner = PartnerFactory()
    first = issue_api_key(partner=partner, name="a").plaintext
    second = issue_api_key(partner=partner, name="b").plaintext

    assert first.split(".")[0] != second.split(".")[0]
    assert first.split(".")[1] != second.split(".")[1]


def test_only_an_hmac_of_the_secret_is_stored(issued):
    secret = issued.plaintext.partition(".")[2]
    stored = ApiKey.objects.filter(pk=issued.api_key.pk).values().get()

    for value in stored.values():
        assert secret not in str(value)
        assert issued.plaintext not in str(value)
    assert re.fullmatch(r"[0-9a-f]{64}", stored["secret_hash"])
    assert stored["secret_hash"] != hashlib.sha256(secret.encode()).hexdigest()  # peppered
    expected = hmac.new(settings.API_KEY_PEPPER.encode(), secret.encode(), hashlib.sha256)
    assert stored["secret_hash"] == expected.hexdigest()


def test_issuing_is_audited():
    staff = UserFactory(is_staff=True)
    issued = issue_api_key(partner=PartnerFactory(), name="till", created_by=staff)

    entry = entries_for(issued.api_key).get()
    assert entry.action == "api_key.issued"
    assert entry.actor == staff


def test_find_api_key_finds_the_key(issued):
    found = find_api_key(issued.plaintext)

    assert found == issued.api_key
    assert found.partner == issued.api_key.partner


def test_a_different_pepper_does_not_match(issued, settings):
    settings.API_KEY_PEPPER = "another pepper"

    assert find_api_key(issued.plaintext) is None


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda prefix, secret: f"{prefix}.{secret}x", id="secret-longer"),
        pytest.param(lambda prefix, secret: f"{prefix}.{secret[:-1]}", id="secret-shorter"),
        pytest.param(lambda prefix, secret: f"{prefix}.{secret.swapcase()}", id="secret-case"),
        pytest.param(lambda prefix, secret: f"{prefix}.wrong", id="wrong-secret"),
        pytest.param(lambda prefix, secret: f"ffffffffffff.{secret}", id="unknown-prefix"),
        pytest.param(lambda prefix, secret: f"{prefix}x.{secret}", id="prefix-longer"),
        pytest.param(lambda prefix, secret: f"{secret}.{prefix}", id="swapped"),
        pytest.param(lambda prefix, secret: f"{prefix}{secret}", id="no-dot"),
    ],
)
def test_wrong_keys_are_not_found(issued, tamper):
    prefix, _, secret = issued.plaintext.partition(".")

    assert find_api_key(tamper(prefix, secret)) is None


@pytest.mark.parametrize("presented", ["", "nodot", ".x", "x.", ".", "{prefix}.", ".{secret}"])
def test_malformed_keys_are_refused_without_a_query(issued, presented, django_assert_num_queries):
    prefix, _, secret = issued.plaintext.partition(".")
    presented = presented.format(prefix=prefix, secret=secret)

    with django_assert_num_queries(0):
        assert find_api_key(presented) is None


def test_revoked_key_is_not_found(issued):
    revoke_api_key(api_key=issued.api_key)

    assert find_api_key(issued.plaintext) is None


def test_expired_key_is_not_found(issued):
    ApiKey.objects.filter(pk=issued.api_key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert find_api_key(issued.plaintext) is None


def test_key_with_a_future_expiry_is_found(issued):
    ApiKey.objects.filter(pk=issued.api_key.pk).update(
        expires_at=timezone.now() + timedelta(days=1)
    )

    assert find_api_key(issued.plaintext) == issued.api_key


def test_key_of_an_inactive_partner_is_not_found(issued):
    Partner.objects.filter(pk=issued.api_key.partner_id).update(is_active=False)

    assert find_api_key(issued.plaintext) is None


def test_revoke_is_audited_and_idempotent(issued):
    staff = UserFactory(is_staff=True)
    api_key = issued.api_key

    revoke_api_key(api_key=api_key, actor=staff)
    first_revoked_at = ApiKey.objects.get(pk=api_key.pk).revoked_at
    assert first_revoked_at is not None
    assert api_key.revoked_at == first_revoked_at

    revoke_api_key(api_key=ApiKey.objects.get(pk=api_key.pk), actor=staff)

    assert ApiKey.objects.get(pk=api_key.pk).revoked_at == first_revoked_at
    revocations = entries_for(api_key).filter(action="api_key.revoked")
    assert revocations.count() == 1
    assert revocations.get().actor == staff


def test_revoking_one_key_leaves_the_others_usable(issued):
    other = issue_api_key(partner=issued.api_key.partner, name="other")

    revoke_api_key(api_key=issued.api_key)

    assert find_api_key(other.plaintext) == other.api_key


# --- Staff roles -----------------------------------------------------------------------------


def role_snapshot() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }


def setup_roles() -> str:
    out = StringIO()
    call_command("setup_roles", stdout=out)
    return out.getvalue()


def test_setup_roles_creates_the_groups_with_exact_permissions():
    output = setup_roles()
    roles = role_snapshot()

    assert set(roles) == set(ROLE_PERMISSIONS)
    for name, expected in ROLE_PERMISSIONS.items():
        if name != ADMINISTRATORS:
            assert roles[name] == set(expected), name
        assert f"{name}: {len(roles[name])} permissions" in output


APPEND_ONLY = {
    "core.change_auditentry",
    "core.delete_auditentry",
    "orders.change_walletentry",
    "orders.delete_walletentry",
}


def test_role_policy():
    setup_roles()
    roles = role_snapshot()
    staff_roles = {name: perms for name, perms in roles.items() if name != ADMINISTRATORS}

    # Nobody edits the append-only ledgers; only administrators delete anything.
    for name, perms in roles.items():
        assert not perms & APPEND_ONLY, name
    for name, perms in staff_roles.items():
        assert not [p for p in perms if ".delete_" in p], name
    assert "core.view_auditentry" in roles["Support"]
    assert "accounts.change_identitycheck" in roles["Identity reviewers"]
    assert "orders.add_walletentry" in roles["Finance"]


def test_administrators_get_everything_but_editing_append_only_ledgers():
    setup_roles()
    every = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }

    admins = role_snapshot()[ADMINISTRATORS]

    assert admins == every - APPEND_ONLY
    assert "core.view_auditentry" in admins
    assert "accounts.change_user" in admins


def test_setup_roles_twice_changes_nothing():
    setup_roles()
    before = role_snapshot()
    group_ids = set(Group.objects.values_list("pk", flat=True))

    setup_roles()

    assert role_snapshot() == before
    assert set(Group.objects.values_list("pk", flat=True)) == group_ids


def test_setup_roles_removes_extra_permissions():
    setup_roles()
    support = Group.objects.get(name="Support")
    support.permissions.add(Permission.objects.get(codename="delete_order"))

    setup_roles()

    assert "orders.delete_order" not in role_snapshot()["Support"]
