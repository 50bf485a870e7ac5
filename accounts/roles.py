"""Staff roles as groups with exact permissions."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

SUPPORT = "Support"
FINANCE = "Finance"
IDENTITY_REVIEWERS = "Identity reviewers"
CATALOG_MANAGERS = "Catalog managers"
ADMINISTRATORS = "Administrators"

_READ_CUSTOMERS = ["accounts.view_user", "accounts.view_customerprofile"]
_READ_ORDERS = ["orders.view_order", "orders.view_payment", "orders.view_sim"]

# Append-only ledgers: nobody, not even an administrator, may edit or delete their rows.
APPEND_ONLY_PERMISSIONS = [
    "change_auditentry",
    "delete_auditentry",
    "change_walletentry",
    "delete_walletentry",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: [
        *_READ_CUSTOMERS,
        *_READ_ORDERS,
        "orders.change_order",  # retry provisioning, cancel unpaid orders
        "orders.view_provisioningattempt",
        "orders.view_replacementticket",
        "orders.change_replacementticket",  # ship a SIM card, mark it activated
        "core.view_auditentry",
        "support.view_conversation",
        "support.change_conversation",  # reply, add notes, assign, close
        "support.view_cannedreply",
        "support.add_cannedreply",
        "support.change_cannedreply",
    ],
    FINANCE: [
        *_READ_CUSTOMERS,
        *_READ_ORDERS,
        "orders.change_payment",
        "accounts.view_partner",
        "orders.view_walletentry",
        "orders.add_walletentry",
        "core.view_auditentry",
    ],
    IDENTITY_REVIEWERS: [
        *_READ_CUSTOMERS,
        "orders.view_sim",
        "orders.view_replacementticket",
        "accounts.view_identitycheck",
        "accounts.change_identitycheck",
        "accounts.review_identitycheck",
        "accounts.view_identitydocument",
    ],
    CATALOG_MANAGERS: [
        f"plans.{action}_{model}"
        for model in [
            "operator",
            "operatorprefix",
            "provider",
            "plan",
            "planprice",
            "partnerpricerule",
            "promotion",
        ]
        for action in ["view", "add", "change"]
    ],
    ADMINISTRATORS: [],  # every permission except editing append-only ledgers
}


@transaction.atomic
def sync_staff_roles() -> dict[str, Group]:
    """Create or update every role group so it holds exactly its permissions."""
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if name == ADMINISTRATORS:
            permissions = Permission.objects.exclude(codename__in=APPEND_ONLY_PERMISSIONS)
        else:
            permissions = _permissions(codenames)
        group.permissions.set(permissions)
        groups[name] = group
    return groups


def _permissions(dotted: list[str]) -> list[Permission]:
    wanted = {tuple(name.split(".")) for name in dotted}
    found = [
        permission
        for permission in Permission.objects.select_related("content_type").filter(
            codename__in={codename for _, codename in wanted}
        )
        if (permission.content_type.app_label, permission.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"Unknown permissions: {sorted(missing)}")
    return found
