"""One idempotency rule (ARCHITECTURE.md rule 12), through the real HTTP entry point.

Same key + same body → same result; same key + another body → 409; only the view's own answers
are stored (never a refusal of the caller: 401, 403, 429, nor a 5xx); an in-progress claim has a
lease, so a request killed half-way does not lock its key; failed authentication is throttled per
client address.
"""

import contextlib
import json
import signal
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Partner
from accounts.services import issue_api_key
from orders import tasks
from orders.models import Order, WalletEntry
from portal.api.idempotency import purge_expired_records
from portal.models import IdempotencyRecord
from tests.api.conftest import client_for
from tests.processes import ROOT, free_port, kill_group, wait_until, worker_database_url

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
RECHARGES = "/api/v1/recharges/"
WALLET = "/api/v1/wallet/"


class Killed(BaseException):
    """The process serving the request dies here: nothing after this line runs."""


def post(client, path, body, key, **extra):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


def debits(partner):
    return WalletEntry.objects.filter(partner=partner, kind=WalletEntry.Kind.ORDER_DEBIT)


@pytest.fixture
def esim(plan_by_sku):
    return plan_by_sku("jazz-esim-week-10gb")


# --- Only the view's own answers are stored --------------------------------------------------


def test_a_throttled_post_is_not_stored_and_its_retry_places_the_order(
    api_client, api_partner, esim, settings
):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert api_client.get(WALLET).status_code == 200  # the minute's one request
    throttled = post(api_client, ORDERS, {"plan": esim.pk}, "shop-1")
    assert_error(throttled, 429, "throttled")
    assert not IdempotencyRecord.objects.exists()

    # "Wait Retry-After and retry with the same key" places the order.
    with time_machine.travel(timezone.now() + timedelta(seconds=int(throttled["Retry-After"]))):
        placed = post(api_client, ORDERS, {"plan": esim.pk}, "shop-1")
        assert placed.status_code == 201, placed.content
        assert "Idempotent-Replayed" not in placed
    assert Order.objects.filter(partner=api_partner).count() == 1
    assert debits(api_partner).count() == 1


def test_a_refused_address_is_not_stored_and_the_allowed_one_places_the_order(api_partner, esim):
    office = client_for(
        issue_api_key(partner=api_partner, name="office", allowed_ips=["10.1.2.3"]).plaintext
    )
    assert_error(post(office, ORDERS, {"plan": esim.pk}, "shop-2"), 403, "permission_denied")
    assert not IdempotencyRecord.objects.exists()

    placed = post(office, ORDERS, {"plan": esim.pk}, "shop-2", REMOTE_ADDR="10.1.2.3")
    assert placed.status_code == 201, placed.content
    assert Order.objects.filter(partner=api_partner).count() == 1


def test_the_views_own_validation_answer_is_stored_and_replayed(api_client, api_partner):
    invalid = post(api_client, ORDERS, {"plan": 999_999}, "shop-3")
    assert_error(invalid, 400, "validation_error")
    again = post(api_client, ORDERS, {"plan": 999_999}, "shop-3")
    assert again.status_code == 400 and again.json() == invalid.json()
    assert again["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_stored(api_client, api_partner, esim, monkeypatch):
    from orders.api import orders as order_views

    real = order_views.place_purchase

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(order_views, "place_purchase", broken)
    api_client.raise_request_exception = False
    assert post(api_client, ORDERS, {"plan": esim.pk}, "shop-4").status_code == 500
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.setattr(order_views, "place_purchase", real)
    assert post(api_client, ORDERS, {"plan": esim.pk}, "shop-4").status_code == 201


# --- An in-progress claim has a lease --------------------------------------------------------


def kill_after_the_order_is_written(monkeypatch):
    """The next purchase dies after its order is committed, before its answer is stored."""
    from orders.api import orders as order_views

    real = order_views.as_answered

    def dies(order):
        monkeypatch.setattr(order_views, "as_answered", real)
        raise Killed

    monkeypatch.setattr(order_views, "as_answered", dies)


def test_a_claim_left_by_a_killed_request_is_taken_over_after_its_lease(
    api_client, api_partner, esim, monkeypatch, settings
):
    settings.API_IDEMPOTENCY_LEASE_SECONDS = 30
    body = {"plan": esim.pk, "quantity": 2}
    kill_after_the_order_is_written(monkeypatch)
    with pytest.raises(Killed):
        post(api_client, ORDERS, body, "shop-5")
    written = Order.objects.get(partner=api_partner)

    busy = post(api_client, ORDERS, body, "shop-5")
    assert_error(busy, 409, "idempotency_in_progress")
    assert 1 <= int(busy["Retry-After"]) <= 30

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert_error(
            post(api_client, ORDERS, {"plan": esim.pk}, "shop-5"), 409, "idempotency_mismatch"
        )
        taken_over = post(api_client, ORDERS, body, "shop-5")
        assert taken_over.status_code == 201, taken_over.content
        assert taken_over.json()["number"] == written.number
        replayed = post(api_client, ORDERS, body, "shop-5")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == taken_over.json()
    assert Order.objects.filter(partner=api_partner).count() == 1
    assert debits(api_partner).count() == 1


def test_a_claim_killed_before_writing_anything_places_the_order_once_taken_over(
    api_client, api_partner, esim, monkeypatch, settings
):
    from orders.api import orders as order_views

    settings.API_IDEMPOTENCY_LEASE_SECONDS = 30
    real = order_views.place_purchase

    def dies(**kwargs):
        raise Killed

    monkeypatch.setattr(order_views, "place_purchase", dies)
    with pytest.raises(Killed):
        post(api_client, ORDERS, {"plan": esim.pk}, "shop-6")
    monkeypatch.setattr(order_views, "place_purchase", real)
    assert not Order.objects.exists()

    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert post(api_client, ORDERS, {"plan": esim.pk}, "shop-6").status_code == 201
    assert Order.objects.filter(partner=api_partner).count() == 1


# --- Same key + other body → 409 for as long as the order exists ------------------------------


def test_the_order_refuses_another_body_after_the_record_is_purged(
    api_client, api_partner, esim, plan_by_sku
):
    body = {"plan": esim.pk, "customer_reference": "10442"}
    first = post(api_client, ORDERS, body, "shop-7")
    assert first.status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        assert purge_expired_records() == 1

    assert_error(
        post(api_client, ORDERS, {**body, "quantity": 2}, "shop-7"), 409, "idempotency_mismatch"
    )
    recharge = {"plan": plan_by_sku("jazz-recharge-100").pk, "msisdn": "03001234567"}
    assert_error(post(api_client, RECHARGES, recharge, "shop-7"), 409, "idempotency_mismatch")

    again = post(api_client, ORDERS, body, "shop-7")  # the first body is still its own answer
    assert again.status_code == 201, again.content
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.filter(partner=api_partner).count() == 1
    assert debits(api_partner).count() == 1


def test_a_long_key_kept_hashed_on_the_order_refuses_another_body_too(
    api_client, api_partner, esim
):
    key = "k" * 200
    assert post(api_client, ORDERS, {"plan": esim.pk}, key).status_code == 201
    IdempotencyRecord.objects.all().delete()
    other = post(api_client, ORDERS, {"plan": esim.pk, "quantity": 3}, key)
    assert_error(other, 409, "idempotency_mismatch")
    assert Order.objects.filter(partner=api_partner).count() == 1


# --- Failed authentication is throttled per client address ------------------------------------


def test_guessing_keys_is_throttled_per_address(api_key, settings):
    settings.API_AUTH_FAILURES_PER_WINDOW = 5
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 300
    guesses = [client_for(f"{api_key.api_key.prefix}.guess{n}").get(WALLET) for n in range(8)]
    assert [r.status_code for r in guesses] == [401] * 5 + [429] * 3
    assert_error(guesses[-1], 429, "throttled")
    assert 1 <= int(guesses[-1]["Retry-After"]) <= 300

    # Blocked: a right key from the same address is refused too (or 429 would tell a guesser
    # which guess was right); another address is not blocked.
    assert_error(client_for(api_key.plaintext).get(WALLET), 429, "throttled")
    assert client_for(api_key.plaintext).get(WALLET, REMOTE_ADDR="198.51.100.7").status_code == 200
    assert_error(
        client_for("x.y").get(WALLET, REMOTE_ADDR="198.51.100.7"), 401, "authentication_failed"
    )

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert client_for(api_key.plaintext).get(WALLET).status_code == 200


def test_three_hundred_wrong_keys_are_not_three_hundred_401s(api_key):
    statuses = [client_for(f"guess.{n}").get(WALLET).status_code for n in range(300)]
    assert statuses.count(429) > 250
    assert set(statuses) == {401, 429}


def test_requests_without_a_key_do_not_block_the_address(api_key, settings):
    settings.API_AUTH_FAILURES_PER_WINDOW = 3
    anonymous = APIClient()
    assert {anonymous.get(WALLET).status_code for _ in range(10)} == {401}
    assert client_for(api_key.plaintext).get(WALLET).status_code == 200


def test_a_post_refused_while_the_address_is_blocked_is_retried_with_its_key(
    api_key, api_partner, esim, settings
):
    settings.API_AUTH_FAILURES_PER_WINDOW = 2
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 60
    for n in range(2):
        client_for(f"guess.{n}").get(WALLET)
    client = client_for(api_key.plaintext)
    assert_error(post(client, ORDERS, {"plan": esim.pk}, "shop-8"), 429, "throttled")
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert post(client, ORDERS, {"plan": esim.pk}, "shop-8").status_code == 201


# --- A real web process killed in the middle of a purchase -----------------------------------


def start_web(port: int, **env_overrides: str):
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        **env_overrides,
    }
    command = ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"]
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def listening(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/wallet/", timeout=1)
    except urllib.error.HTTPError:
        return True  # 401: it answers
    except OSError:
        return False
    return True


def send_and_lose_the_answer(request):
    with contextlib.suppress(OSError):  # the process died: no answer
        urllib.request.urlopen(request, timeout=60)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_web_process_killed_mid_purchase_leaves_its_key_usable_after_the_lease(
    api_partner, api_key, esim, monkeypatch
):
    assert connection.vendor == "postgresql"
    monkeypatch.setattr(tasks.provision_order, "delay_on_commit", lambda *args: None)
    port = free_port()
    web = start_web(port, API_IDEMPOTENCY_LEASE_SECONDS="3")
    body = json.dumps({"plan": esim.pk, "quantity": 2})  # the same bytes on every try
    try:
        wait_until(lambda: listening(port), 60, "the web process to listen")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{ORDERS}",
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {api_key.plaintext}",
                "Content-Type": "application/json",
                "Idempotency-Key": "shop-killed",
            },
        )
        # Hold the partner's wallet lock so the purchase stops half-way, then kill the process.
        # (NO KEY: rows that only refer to the partner, like the key's claim, are not held up.)
        with transaction.atomic():
            Partner.objects.select_for_update(no_key=True).get(pk=api_partner.pk)
            sender = threading.Thread(target=send_and_lose_the_answer, args=(request,), daemon=True)
            sender.start()
            wait_until(
                lambda: IdempotencyRecord.objects.filter(key="shop-killed").exists(),
                30,
                "the purchase to claim its key",
            )
            wait_until(
                lambda: _a_query_waits_for_a_lock(), 30, "the purchase to wait for the wallet lock"
            )
            kill_group(web, signal.SIGKILL)
        sender.join(10)
    finally:
        kill_group(web, signal.SIGKILL)

    client = client_for(api_key.plaintext)

    def retry():
        return client.post(
            ORDERS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="shop-killed"
        )

    assert not Order.objects.exists()  # the killed transaction wrote nothing
    record = IdempotencyRecord.objects.get(key="shop-killed")
    assert not record.completed
    if record.locked_until > timezone.now():
        assert_error(retry(), 409, "idempotency_in_progress")
    wait_until(lambda: timezone.now() > record.locked_until, 10, "the lease to expire")
    placed = retry()
    assert placed.status_code == 201, placed.content
    assert Order.objects.filter(partner=api_partner).count() == 1
    assert debits(api_partner).count() == 1


def _a_query_waits_for_a_lock() -> bool:
    """Whether another PostgreSQL session waits for a row lock (the wallet's, held by the test)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0
