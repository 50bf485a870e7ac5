"""The partner admin list reads each balance from the newest entry's index, whatever the ledger's
size and the planner's statistics (PostgreSQL's executed plan)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import WalletEntry
from tests.factories import PartnerFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

LATEST_ENTRY_INDEX = "wallet_partner_latest_idx"
LEDGER = WalletEntry._meta.db_table


def fill_ledger(partner, entries: int) -> None:
    """``entries`` top-ups of 1 for ``partner``, each with its running balance; ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LEDGER} (partner_id, kind, amount, currency, reason, created_at,"
            " balance_after) SELECT %s, 'top_up', 1, 'PKR', '', now(), n"
            " FROM generate_series(1, %s) AS n",
            [partner.pk, entries],
        )
        cursor.execute(f"ANALYZE {LEDGER}")


def executed_steps(plan: dict):
    if plan.get("Actual Loops"):
        yield plan
    for child in plan.get("Plans", []):
        yield from executed_steps(child)


def test_partner_list_reads_one_ledger_row_per_partner(client, signed_in_superuser):
    """One partner with 30,000 entries and 40 with none (the statistics then say every entry is
    that partner's, so a backward walk of the primary key looks free to the planner, and reads
    the whole ledger for each partner without entries): each partner's balance is read from its
    newest entry in the newest-entry index, and the ledger's sum never runs."""
    fill_ledger(PartnerFactory(name="Busy reseller"), 30_000)
    PartnerFactory.create_batch(40)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/accounts/partner/")
    assert response.status_code == 200
    assert "30000" in response.content.decode().replace(",", "")
    [listing] = [q["sql"] for q in queries.captured_queries if "balance_after" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {listing}")
        plan = cursor.fetchone()[0][0]["Plan"]
    shown = json.dumps(plan, indent=1)
    reads = [step for step in executed_steps(plan) if step.get("Relation Name") == LEDGER]
    assert {step.get("Index Name") for step in reads} == {LATEST_ENTRY_INDEX}, shown
    rows_read = sum(
        (step["Actual Rows"] + step.get("Rows Removed by Filter", 0)) * step["Actual Loops"]
        for step in reads
    )
    assert rows_read <= 41, shown
