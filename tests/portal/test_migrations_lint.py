"""No migration may stop the shop: django-migration-linter plus our rule for the big tables.

Each migration's SQL is what ``sqlmigrate`` prints on the real PostgreSQL (the SQL differs per
database). The linter refuses what breaks the release still running during a rollout and, here,
a non-concurrent index build. Our rule, for migrations newer than ``BASELINE``: on a big table,
no ``CREATE INDEX`` without ``CONCURRENTLY`` and no ``ADD CONSTRAINT`` without ``NOT VALID`` (or
``USING INDEX``). The released migrations it accepts anyway are in ``ACCEPTED``, with why.
"""

import re

import pytest
from django.apps import apps
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser import analyse_sql_statements

from core.migrations_ops import AddIndexConcurrently
from tests.apps import PROJECT_APPS


def on_postgresql(test):
    """Needs the real PostgreSQL, outside a transaction (a concurrent index refuses one)."""
    return pytest.mark.services(pytest.mark.django_db(transaction=True)(test))


OUR_APPS = PROJECT_APPS

# The tables that grow with sales and traffic: a lock on one of them stops checkout, payments,
# provisioning, the usage sync or webhooks for as long as it is held.
BIG_MODELS = (
    "orders.Order",
    "orders.Payment",
    "orders.Refund",
    "orders.Sim",
    "orders.ProvisioningAttempt",
    "orders.WalletEntry",
    "orders.WebhookEvent",
    "orders.WebhookDelivery",
    "orders.WebhookAttempt",
    "orders.Notification",
    "core.AuditEntry",
    "plans.ProviderCall",
)

# The last migration of each app when our rule was introduced; every newer one must obey it.
BASELINE = {"accounts": 8, "core": 1, "orders": 13, "plans": 5, "portal": 5}

# The linter's warnings that mean a lock held while an index is built: refused like its errors.
BLOCKING_WARNINGS = ("CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE", "DROP_INDEX", "REINDEX")

_NOT_NULL = (
    "released before this check: the column is added with a default in one statement (no "
    "rewrite), but the default is then dropped, so the previous release's inserts fail during "
    "a rollout. New columns are nullable or have a db_default."
)
_SMALL_TABLE_INDEX = (
    "released before this check; identity checks are one per verification, a small table "
    "whose short write lock stops nothing else."
)
ACCEPTED = {
    ("accounts", "0002_alter_identitycheck_options_and_more"): (
        {"NOT_NULL", "CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE"},
        f"{_SMALL_TABLE_INDEX} NOT NULL: {_NOT_NULL}",
    ),
    ("accounts", "0003_identitycheck_partner_alter_identitycheck_customer_and_more"): (
        {"CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE"},
        _SMALL_TABLE_INDEX,
    ),
    ("accounts", "0007_notification_delivery"): ({"NOT_NULL"}, _NOT_NULL),
    ("orders", "0002_order_upstream_reference"): (
        {"NOT_NULL", "CREATE_INDEX", "CREATE_INDEX_EXCLUSIVE"},
        "released with the first partner API. Its two indexes come from the field's db_index "
        "(generated names, one with varchar_pattern_ops), which AddIndexConcurrently cannot "
        f"reproduce; an installation that old upgrades in a quiet hour. NOT NULL: {_NOT_NULL}",
    ),
    ("orders", "0003_replacementticket_currency"): ({"NOT_NULL"}, _NOT_NULL),
    ("orders", "0004_order_webhook_url"): ({"NOT_NULL"}, _NOT_NULL),
    ("orders", "0008_order_cost_snapshot"): ({"NOT_NULL"}, _NOT_NULL),
    ("orders", "0009_webhook_event_outcome"): ({"NOT_NULL"}, _NOT_NULL),
    ("orders", "0010_order_request_fingerprint"): ({"NOT_NULL"}, _NOT_NULL),
}

CREATE_TABLE = re.compile(r'^CREATE TABLE "(?P<table>\w+)"')
CREATE_INDEX = re.compile(
    r'^CREATE (UNIQUE )?INDEX (?P<concurrently>CONCURRENTLY )?.*? ON "(?P<table>\w+)"'
)
ADD_CONSTRAINT = re.compile(r'^ALTER TABLE "(?P<table>\w+)" ADD CONSTRAINT')


def big_tables() -> set[str]:
    return {apps.get_model(label)._meta.db_table for label in BIG_MODELS}


def blocking_on_big_tables(sql: list[str], tables: set[str]) -> dict[str, str]:
    """Our rule: statements that lock a big table (not created by this migration) for long."""
    found, created = {}, set()
    for statement in sql:
        if match := CREATE_TABLE.match(statement):
            created.add(match["table"])
        elif match := CREATE_INDEX.match(statement):
            if not match["concurrently"] and match["table"] in tables - created:
                found["BIG_TABLE_INDEX"] = f"CREATE INDEX without CONCURRENTLY: {statement}"
        elif match := ADD_CONSTRAINT.match(statement):
            validates = "NOT VALID" not in statement and "USING INDEX" not in statement
            if validates and match["table"] in tables - created:
                found["BIG_TABLE_CONSTRAINT"] = f"ADD CONSTRAINT without NOT VALID: {statement}"
    return found


def sql_of(loader: MigrationLoader, migration) -> list[str]:
    """What ``sqlmigrate`` prints for the migration (it must be in the loader's graph)."""
    statements = loader.collect_sql([(migration, False)])
    if migration.atomic and connection.features.can_rollback_ddl:
        return ["BEGIN;", *statements, "COMMIT;"]
    return statements


def refusals(linter: MigrationLinter, loader: MigrationLoader, migration) -> dict[str, str]:
    """Every reason to refuse the migration, by code: the linter's and, past BASELINE, ours."""
    sql = sql_of(loader, migration)
    errors, _ignored, warnings = analyse_sql_statements(linter.sql_analyser_class, sql)
    data_errors, _ignored, _warnings = linter.analyse_data_migration(migration)
    found = {issue.code: issue.message for issue in errors + data_errors}
    found |= {w.code: w.message for w in warnings if w.code in BLOCKING_WARNINGS}
    if int(migration.name[:4]) > BASELINE.get(migration.app_label, 0):
        found |= blocking_on_big_tables(sql, big_tables())
    return found


@pytest.fixture
def linter():
    return MigrationLinter(include_apps=OUR_APPS, no_cache=True, no_output=True)


@pytest.fixture
def loader():
    return MigrationLoader(connection)


@on_postgresql
def test_no_migration_blocks_the_shop_but_the_accepted_ones(linter, loader):
    ours = sorted(key for key in loader.disk_migrations if key[0] in OUR_APPS)
    found = {key: set(refusals(linter, loader, loader.graph.nodes[key])) for key in ours}
    accepted = {key: codes for key, (codes, _why) in ACCEPTED.items()}
    refused = {key: codes - accepted.get(key, set()) for key, codes in found.items()}
    assert {key: codes for key, codes in refused.items() if codes} == {}
    # An exception that no longer applies is removed from the list.
    assert {key: codes - found.get(key, set()) for key, codes in accepted.items()} == {
        key: set() for key in accepted
    }


def synthetic(loader: MigrationLoader, *operations, atomic=True):
    """A new orders migration after the current last one, in the loader's graph."""
    parent = loader.graph.leaf_nodes("orders")[0]
    number = int(parent[1][:4]) + 1
    migration = type(
        "Migration",
        (migrations.Migration,),
        {"atomic": atomic, "dependencies": [parent], "operations": list(operations)},
    )(f"{number:04d}_synthetic", "orders")
    loader.graph.add_node(("orders", migration.name), migration)
    loader.graph.add_dependency(migration, ("orders", migration.name), parent)
    return migration


@on_postgresql
def test_a_plain_index_on_orders_is_refused(linter, loader):
    index = models.Index(fields=["status", "updated_at"], name="order_synthetic_idx")
    migration = synthetic(loader, migrations.AddIndex(model_name="order", index=index))

    assert {"CREATE_INDEX", "BIG_TABLE_INDEX"} <= set(refusals(linter, loader, migration))


@on_postgresql
def test_a_check_constraint_on_payments_without_not_valid_is_refused(linter, loader):
    check = models.CheckConstraint(condition=models.Q(amount__lte=10**9), name="payment_synthetic")
    migration = synthetic(loader, migrations.AddConstraint(model_name="payment", constraint=check))

    assert set(refusals(linter, loader, migration)) == {"BIG_TABLE_CONSTRAINT"}


@on_postgresql
def test_a_concurrent_index_on_orders_is_accepted(linter, loader):
    index = models.Index(fields=["status", "updated_at"], name="order_synthetic_idx")
    migration = synthetic(
        loader, AddIndexConcurrently(model_name="order", index=index), atomic=False
    )

    assert any("CONCURRENTLY" in line for line in sql_of(loader, migration))
    assert refusals(linter, loader, migration) == {}


def test_our_rule_accepts_the_safe_forms_and_new_tables():
    tables = {"orders_payment"}
    safe = [
        'CREATE INDEX CONCURRENTLY "p_idx" ON "orders_payment" ("status");',
        'ALTER TABLE "orders_payment" ADD CONSTRAINT "p_chk" CHECK ("amount" > 0) NOT VALID;',
        'ALTER TABLE "orders_payment" VALIDATE CONSTRAINT "p_chk";',
        'ALTER TABLE "orders_payment" ADD CONSTRAINT "p_uniq" UNIQUE USING INDEX "p_idx";',
        'CREATE INDEX "s_idx" ON "plans_operator" ("code");',
    ]
    assert blocking_on_big_tables(safe, tables) == {}
    new_table = [
        'CREATE TABLE "orders_payment" ("id" bigint);',
        'CREATE INDEX "p" ON "orders_payment" ("id");',
    ]
    assert blocking_on_big_tables(new_table, tables) == {}


def test_our_rule_refuses_a_plain_index_and_a_validated_constraint():
    tables = {"orders_payment"}
    sql = [
        'CREATE UNIQUE INDEX "p_idx" ON "orders_payment" ("reference");',
        'ALTER TABLE "orders_payment" ADD CONSTRAINT "p_chk" CHECK ("amount" > 0);',
    ]
    assert set(blocking_on_big_tables(sql, tables)) == {"BIG_TABLE_INDEX", "BIG_TABLE_CONSTRAINT"}
