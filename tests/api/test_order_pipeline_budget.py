"""What one partner order costs the database, placed through the API and provisioned: the
transactions and the writes are budgeted, so a change that adds one fails here
(``benchmarks/pipeline_sql.py`` measures the same on PostgreSQL)."""

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.db import connection

from core.audit import entries_for
from orders.models import Order
from portal.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = "/api/v1/orders/"
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Cost:
    """The statements run, the transactions committed, the task messages sent."""

    statements: list[tuple[str, bool]] = field(default_factory=list)
    transactions: int = 0
    tasks: list = field(default_factory=list)

    @property
    def writes(self) -> list[str]:
        return [sql for sql, _ in self.statements if sql.lstrip().upper().startswith(WRITES)]

    @property
    def reads(self) -> list[str]:
        return [sql for sql, _ in self.statements if sql.lstrip().upper().startswith("SELECT")]

    @property
    def outside_transactions(self) -> int:
        """Statements run on their own (autocommit): each is a transaction of the server's."""
        return sum(
            1 for sql, in_block in self.statements if not in_block and not sql.startswith("BEGIN")
        )


@contextmanager
def counted(queue: list):
    """Count what runs; tasks sent after commit are queued in ``queue``, not run."""
    cost = Cost()

    def record(execute, sql, params, many, context):
        cost.statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    commit = connection.commit

    def counting_commit():
        cost.transactions += 1
        commit()

    def sender(task):
        def send(args=None, kwargs=None, **options):
            queue.append((task, args or (), kwargs or {}))
            cost.tasks.append(task.name)

        return send

    with ExitStack() as stack:
        stack.enter_context(connection.execute_wrapper(record))
        stack.enter_context(mock.patch.object(connection, "commit", counting_commit))
        for task in celery_app.tasks.values():  # each task: a test may have pinned its method
            stack.enter_context(mock.patch.object(task, "apply_async", sender(task)))
        yield cost


def run_all(queue: list) -> None:
    while queue:
        task, args, kwargs = queue.pop(0)
        task.run(*args, **kwargs)


def describe(cost: Cost) -> str:
    """The statements, one a line; those run on their own (autocommit) marked with ``*``."""
    return "\n".join(
        f"{'  ' if in_block else '* '}{sql[:160]}" for sql, in_block in cost.statements
    )


# Placing: the Idempotency-Key's claim (one statement on its own, so a concurrent retry sees it),
# then one transaction for the order (written paid), the wallet debit, the payment and the two
# audit entries (placed, paid: one INSERT); the answer stored under the claim (on its own).
PLACING_TRANSACTIONS = 1
PLACING_ON_THEIR_OWN = 2
PLACING_WRITES = 6
# Placing's reads: the partner locked, the wallet's balance. The key's earlier order is looked
# up only when placing fails (its unique constraint, or a refusal a replay must not get). The
# plan, its retail price and the partner's price rule come from the process's memo of the
# catalog version (read by the warm-up order).
PLACING_READS = 2
# Provisioning: the claim (order to provisioning with its audit entry and next attempt time, the
# attempt), the sandbox upstream's own row, then one transaction for the result (the attempt
# succeeded, the SIM, the order fulfilled, their two audit entries in one INSERT).
PROVISIONING_TRANSACTIONS = 3
PROVISIONING_WRITES = 8
# Provisioning's reads: the order locked with its plan and provider (paid: no attempt yet to
# look up), the sandbox's plan by SKU, the order locked again (the attempt is not read: its
# outcome is written only if it is still in progress; nor are SIMs by ICCID: one already
# recorded is skipped by the insert), the partner's webhook endpoints (none: the ICCIDs are
# not read for an event).
PROVISIONING_READS = 4


def test_one_order_placed_and_provisioned_within_budget(api_client, api_partner, plan_by_sku):
    plan = plan_by_sku("jazz-esim-week-10gb")
    body = {"plan": plan.pk, "customer_reference": "trip-1"}
    api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="warm-up")  # caches
    queue: list = []
    with counted(queue) as placing:
        response = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "paid" and response.json()["sims"] == []
    with counted(queue) as provisioning:
        run_all(queue)
    order = Order.objects.get(number=response.json()["number"])
    assert order.status == Order.Status.FULFILLED and order.issued_sims.count() == 1
    moves = [
        (entry.action, entry.before.get("status"), entry.after.get("status"))
        for entry in entries_for(order).order_by("id")
    ]
    assert moves == [
        ("order.placed", None, None),
        ("order.status", "created", "paid"),  # written paid, audited as the move
        ("order.status", "paid", "provisioning"),
        ("order.status", "provisioning", "fulfilled"),
    ]

    assert placing.tasks == ["orders.tasks.provision_order"], describe(placing)
    assert placing.transactions == PLACING_TRANSACTIONS, describe(placing)
    assert placing.outside_transactions == PLACING_ON_THEIR_OWN, describe(placing)
    assert len(placing.writes) == PLACING_WRITES, describe(placing)
    assert len(placing.reads) == PLACING_READS, describe(placing)
    assert provisioning.tasks == [], describe(provisioning)
    assert provisioning.transactions == PROVISIONING_TRANSACTIONS, describe(provisioning)
    assert len(provisioning.writes) == PROVISIONING_WRITES, describe(provisioning)
    assert len(provisioning.reads) == PROVISIONING_READS, describe(provisioning)
