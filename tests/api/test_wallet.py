"""The wallet through the partner API: balance, statement pages, CSV export, races."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.models import Partner
from orders import tasks
from orders.models import Order, WalletEntry
from orders.services.wallet import adjust_wallet, record_entry
from plans.models import Plan
from tests.api.conftest import client_for
from tests.clock import EVENING_BEFORE_NEW_YEAR
from tests.reliability.test_concurrency import run_together
from tests.worlds import PARTNER_OPENING_REASON

pytestmark = pytest.mark.usefixtures("evening_before_new_year")

START = EVENING_BEFORE_NEW_YEAR + timedelta(days=1)  # after the opening entry
WALLET = "/api/v1/wallet/"
STATEMENT = "/api/v1/wallet/statement/"
CSV_EXPORT = "/api/v1/wallet/statement.csv"


def entry(partner, amount, kind=WalletEntry.Kind.ADJUSTMENT, reason="test"):
    return record_entry(
        partner=partner, kind=kind, amount=Decimal(amount), currency="PKR", reason=reason
    )


@pytest.fixture
def ledger(api_partner):
    """Six more entries a day apart after the opening balance (entry 0)."""
    amounts = ["-1200", "300.5", "-75.25", "-4000", "10", "-0.0001"]
    kinds = ["adjustment", "top_up", "refund", "adjustment", "top_up", "adjustment"]
    entries = []
    for day, (amount, kind) in enumerate(zip(amounts, kinds, strict=True), start=1):
        with time_machine.travel(START + timedelta(days=day), tick=False):
            entries.append(entry(api_partner, amount, kind=kind))
    return entries


def all_pages(client, url, **params):
    rows, response = [], client.get(url, {**params, "page_size": 2})
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


def csv_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="wallet-statement-')
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.django_db
def test_wallet_balance_is_the_ledger_sum(api_client, api_partner, ledger):
    Partner.objects.filter(pk=api_partner.pk).update(credit_limit=Decimal("2500"))
    body = api_client.get(WALLET).json()
    total = sum(WalletEntry.objects.filter(partner=api_partner).values_list("amount", flat=True))
    assert Decimal(body["balance"]) == total == Decimal("45035.2499")
    assert Decimal(body["credit_limit"]) == Decimal("2500")
    assert Decimal(body["available"]) == total + 2500
    assert body["currency"] == "PKR" and Decimal(body["low_balance_threshold"]) == 5000


@pytest.mark.django_db
def test_statement_pages_carry_the_right_balance_after_each_entry(api_client, api_partner, ledger):
    rows = all_pages(api_client, STATEMENT)
    newest_first = list(WalletEntry.objects.filter(partner=api_partner).order_by("-created_at"))
    assert [r["id"] for r in rows] == [e.pk for e in newest_first] and len(rows) == 7
    balance = WalletEntry.balance_of(api_partner)
    for row, stored in zip(rows, newest_first, strict=True):
        assert Decimal(row["balance_after"]) == balance
        assert Decimal(row["amount"]) == stored.amount
        balance -= stored.amount
    assert balance == 0
    assert set(rows[0]) == {
        "id",
        "created_at",
        "kind",
        "amount",
        "currency",
        "order",
        "reason",
        "balance_after",
    }


@pytest.mark.django_db
def test_statement_filters_keep_the_true_balance(api_client, ledger):
    top_ups = all_pages(api_client, STATEMENT, kind="top_up")
    opening = WalletEntry.objects.get(reason=PARTNER_OPENING_REASON)
    assert [r["id"] for r in top_ups] == [ledger[4].pk, ledger[1].pk, opening.pk]
    assert [r["balance_after"] for r in top_ups] == ["45035.2500", "49100.5000", "50000.0000"]
    window = all_pages(
        api_client,
        STATEMENT,
        created_after=(START + timedelta(days=2)).isoformat(),
        created_before=(START + timedelta(days=4)).isoformat(),
    )
    assert [r["id"] for r in window] == [ledger[2].pk, ledger[1].pk]
    bad = api_client.get(STATEMENT, {"kind": "nope", "created_after": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "validation_error"
    assert set(bad.json()["error"]["details"]) == {"kind", "created_after"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", [STATEMENT, CSV_EXPORT])
def test_times_with_any_offset_are_understood(api_client, ledger, url):
    far_east = (START + timedelta(days=6)).astimezone(timezone.get_fixed_timezone(23 * 60 + 30))
    response = api_client.get(url, {"created_after": far_east.isoformat()})  # beyond ±15:59
    assert response.status_code == 200
    assert response.streaming or [r["id"] for r in response.json()["results"]] == [ledger[5].pk]
    too_early = api_client.get(url, {"created_before": "0001-01-01T00:00:00+16:00"})
    assert too_early.status_code == 400
    assert too_early.json()["error"]["details"] == {
        "created_before": ["This time is out of range."]
    }


@pytest.mark.django_db
def test_csv_export_has_the_same_rows_and_balances(api_client, ledger):
    for params in [
        {},
        {"kind": "adjustment"},
        {"created_after": (START + timedelta(days=3)).isoformat()},
    ]:
        pages = all_pages(api_client, STATEMENT, **params)
        rows = csv_of(api_client.get(CSV_EXPORT, params))
        assert [int(r["id"]) for r in rows] == [p["id"] for p in pages]
        assert [r["balance_after"] for r in rows] == [p["balance_after"] for p in pages]
        assert [r["amount"] for r in rows] == [p["amount"] for p in pages]
        assert [r["created_at"] for r in rows] == [p["created_at"] for p in pages]
    empty = api_client.get(CSV_EXPORT, {"created_before": (START - timedelta(days=9)).isoformat()})
    assert b"".join(empty.streaming_content).decode().strip() == (
        "id,created_at,kind,amount,currency,order,reason,balance_after"
    )


@pytest.mark.django_db
def test_csv_export_names_orders_and_defuses_formulas(api_client, api_partner):
    plan = Plan.objects.filter(kind="esim", operator__code="jazz").first()
    order = api_client.post("/api/v1/orders/", {"plan": plan.pk}, format="json")
    assert order.status_code == 201, order.content
    entry(api_partner, "5", reason="=HYPERLINK(1)")
    rows = csv_of(api_client.get(CSV_EXPORT))
    assert rows[0]["reason"] == "'=HYPERLINK(1)" and rows[0]["order"] == ""
    assert rows[1]["order"] == order.json()["number"] and rows[1]["kind"] == "order_debit"
    page = api_client.get(STATEMENT).json()["results"]
    assert page[1]["order"] == order.json()["number"] and page[0]["order"] is None


@pytest.mark.django_db
def test_errors_of_the_csv_export_are_json(api_client):
    response = api_client.get(CSV_EXPORT, {"kind": "nope"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "validation_error"
    assert client_for("nope.nope").get(CSV_EXPORT).json()["error"]["code"] == (
        "authentication_failed"
    )


@pytest.mark.django_db
def test_another_partners_entries_never_show(api_client, other_partner_client, api_partner):
    entry(api_partner, "-1", reason="mine")
    theirs = all_pages(other_partner_client, STATEMENT)
    assert [r["reason"] for r in theirs] == ["Test opening balance"]
    assert [r["reason"] for r in csv_of(other_partner_client.get(CSV_EXPORT))] == [
        "Test opening balance"
    ]
    assert Decimal(other_partner_client.get(WALLET).json()["balance"]) == 50000


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 1000])
def test_statement_and_export_queries_do_not_grow(
    api_client, api_partner, count, django_assert_num_queries
):
    plan = Plan.objects.filter(kind="esim").first()
    orders = Order.objects.bulk_create(
        Order(kind="purchase", partner=api_partner, plan=plan, currency="PKR", subtotal=1, total=1)
        for _ in range(count)
    )
    WalletEntry.objects.bulk_create(
        WalletEntry(partner=api_partner, kind="order_debit", amount=-1, currency="PKR", order=o)
        for o in orders
    )
    api_client.get(WALLET)  # the key's last use is recorded outside the budget
    with django_assert_num_queries(1):  # the page (cursor pages need no count; the key is cached)
        page = api_client.get(STATEMENT, {"page_size": 200})
    assert len(page.json()["results"]) == min(count + 1, 200)
    with django_assert_num_queries(5):  # partner, newest, oldest, opening balance, the walk
        rows = csv_of(api_client.get(CSV_EXPORT))
    assert len(rows) == count + 1 and rows[-1]["balance_after"] == "50000.0000"
    assert rows[0]["balance_after"] == f"{50000 - count}.0000"


@pytest.mark.django_db
def test_statement_and_export_read_the_stored_running_balance(
    api_client, api_partner, ledger, django_assert_num_queries
):
    """Each line's balance is the entry's own ``balance_after``: no sum over the ledger per line."""
    marked = ledger[2]
    WalletEntry.objects.filter(pk=marked.pk).update(balance_after=Decimal("12345.6789"))
    api_client.get(WALLET)  # the key's last use is recorded outside the budget
    pages = {row["id"]: row["balance_after"] for row in all_pages(api_client, STATEMENT)}
    with django_assert_num_queries(4):  # partner, newest, oldest, the walk: no opening sum
        rows = {int(row["id"]): row["balance_after"] for row in csv_of(api_client.get(CSV_EXPORT))}
    assert pages[marked.pk] == rows[marked.pk] == "12345.6789"
    assert pages[ledger[3].pk] == rows[ledger[3].pk] == str(ledger[3].balance_after)


# Races on real PostgreSQL (scripts/test tests/api/test_wallet.py).


@pytest.fixture
def no_provisioning(monkeypatch):
    monkeypatch.setattr(tasks.provision_order, "delay_on_commit", lambda *args: None)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_overdraw_the_wallet(api_partner, api_key, no_provisioning):
    assert connection.vendor == "postgresql"
    credit = Decimal("100")
    Partner.objects.filter(pk=api_partner.pk).update(credit_limit=credit)
    plan = Plan.objects.filter(kind="esim", operator__code="jazz").first()
    first = client_for(api_key.plaintext).post("/api/v1/orders/", {"plan": plan.pk}, format="json")
    price = Decimal(first.json()["total"])
    room = 3
    adjust_wallet(
        partner=api_partner,
        amount=-(WalletEntry.balance_of(api_partner) + credit - room * price),
        reason="leave room for 3 orders",
        actor=None,
        kind=WalletEntry.Kind.ADJUSTMENT,
    )

    def order(_):
        response = client_for(api_key.plaintext).post(
            "/api/v1/orders/", {"plan": plan.pk}, format="json"
        )
        return response.status_code, response.json()

    outcomes = run_together(order, 10)

    assert sorted(status for status, _ in outcomes) == [201] * room + [402] * (10 - room)
    refused = [body["error"] for status, body in outcomes if status == 402]
    assert {e["code"] for e in refused} == {"insufficient_funds"}
    balance = WalletEntry.balance_of(api_partner)
    assert balance >= -credit and balance < -credit + price
    assert Order.objects.filter(partner=api_partner).count() == room + 1
    debits = WalletEntry.objects.filter(partner=api_partner, kind="order_debit")
    assert debits.count() == room + 1
    wallet = client_for(api_key.plaintext).get(WALLET).json()
    assert Decimal(wallet["balance"]) == balance
    assert Decimal(wallet["available"]) == balance + credit >= 0
    history = csv_of(client_for(api_key.plaintext).get(CSV_EXPORT))
    assert min(Decimal(row["balance_after"]) for row in history) >= -credit  # at every moment
    assert Decimal(history[0]["balance_after"]) == balance


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_idempotency_key_make_one_order(
    api_partner, api_key, no_provisioning
):
    assert connection.vendor == "postgresql"
    plan = Plan.objects.filter(kind="esim", operator__code="jazz").first()
    before = WalletEntry.balance_of(api_partner)

    def order(_):
        response = client_for(api_key.plaintext).post(
            "/api/v1/orders/",
            {"plan": plan.pk, "quantity": 2},
            format="json",
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
        return response.status_code, response.json()

    outcomes = run_together(order, 2)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses in ([201, 201], [201, 409]), outcomes
    bodies = [body for status, body in outcomes if status == 201]
    if statuses == [201, 409]:
        busy = next(body for status, body in outcomes if status == 409)
        assert busy["error"]["code"] == "idempotency_in_progress"
    else:
        assert bodies[0] == bodies[1]
    assert Order.objects.filter(partner=api_partner).count() == 1
    order_total = Order.objects.get(partner=api_partner).total
    assert WalletEntry.balance_of(api_partner) == before - order_total
