"""Request ids through the real entry points: answered in ``X-Request-ID``, in the log lines of the
request, in the headers of the tasks it sends and in the JSON lines of a real worker running them;
gunicorn's logs in JSON; no activation code in the logs of provisioning."""

import io
import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from rest_framework.test import APIClient

from accounts.services import issue_api_key
from core.logging.context import current_request_id
from core.logging.formatting import ContextFilter, JsonFormatter, RedactFilter
from orders.models import Order, Sim
from plans.models import Plan
from tests.processes import (
    ROOT,
    clean_env,
    free_port,
    kill_group,
    start_worker,
    wait_until,
)
from tests.worlds import build_catalog, build_partner

ORDERS = "/api/v1/orders/"
SKU = "jazz-esim-week-10gb"
GUNICORN_ARGS = ["--config", "deploy/gunicorn.conf.py", "portal.wsgi:application"]
NEW_ID = re.compile(r"[0-9a-f]{32}")
# The tests run as root, which only makes Celery warn (before logging starts); the image does not.
NOT_AS_ROOT_WARNING = "ignore:You're running the worker with superuser privileges"


@pytest.fixture
def json_lines():
    """The root logger's records during the test, through the console handler's filters and the
    JSON formatter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def partner_client() -> APIClient:
    partner = build_partner()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {issue_api_key(partner=partner, name='Logs').plaintext}"
    )
    return client


def place_order(client: APIClient, request_id: str, **fields):
    plan = Plan.objects.get(provider_sku=SKU)
    response = client.post(
        ORDERS,
        {"plan": plan.pk, "quantity": 1, **fields},
        format="json",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == request_id
    return Order.objects.get(number=response.json()["number"])


def test_a_well_formed_request_id_is_answered_and_in_the_requests_log_lines(client, db, json_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="lb-2f9c.7_A")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "lb-2f9c.7_A"
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "lb-2f9c.7_A"


@pytest.mark.parametrize(
    "incoming", [None, "", "with space", "x" * 65, "semi;colon", "ünïcode", "a\tb"]
)
def test_a_missing_or_malformed_request_id_is_replaced_by_a_new_one(client, db, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
    first = client.get("/health/", **headers)["X-Request-ID"]
    second = client.get("/health/", **headers)["X-Request-ID"]
    assert NEW_ID.fullmatch(first) and NEW_ID.fullmatch(second) and first != second


def test_the_longest_well_formed_request_id_is_kept(client, db):
    assert client.get("/health/", HTTP_X_REQUEST_ID="A" * 64)["X-Request-ID"] == "A" * 64


def test_a_response_logged_after_the_view_still_carries_the_request_id(client, db, json_lines):
    """Django logs 4xx responses after the middleware has returned; the id lasts until the
    response is closed (which is also when the server writes its access log)."""
    before = current_request_id()
    response = client.get(ORDERS, HTTP_X_REQUEST_ID="lb-unauthorized")
    assert response.status_code == 401
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["message"].startswith("Unauthorized") and line["request_id"] == "lb-unauthorized"
    assert current_request_id() == before != "lb-unauthorized"  # restored once closed


def test_provisioning_puts_no_activation_code_into_any_log_record(
    world_catalog, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(partner_client(), "lb-provision")
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    code = Sim.objects.get(issued_by_order=order).activation_code
    matching_id = code.rsplit("$", 1)[1]
    assert code.startswith("LPA:1$") and matching_id
    assert caplog.records
    texts = [record.getMessage() for record in caplog.records] + [
        str(value) for record in caplog.records for value in vars(record).values()
    ]
    assert not [text for text in texts if matching_id in text]
    assert not [text for text in texts if "[redacted]" in text]  # nothing even tried to log it


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_by_a_request_carries_its_request_id_in_the_message(real_broker):
    build_catalog()
    client = partner_client()
    real_broker.control.purge()
    order = place_order(client, "lb-order-1")
    with real_broker.connection_for_read() as connection:
        queue = connection.SimpleQueue("provisioning")
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert message.headers["task"] == "orders.tasks.provision_order"
    assert message.headers["request_id"] == "lb-order-1"
    assert json.loads(message.body)[0] == [order.pk]


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_json_lines_carry_the_request_id_into_the_tasks_it_sends(
    real_broker, tmp_path
):
    """The request sends provision_order; the worker, provisioning, sends deliver_webhook: the
    log lines of both tasks carry the request's id, their task id and task name."""
    build_catalog()
    client = partner_client()
    real_broker.control.purge()
    log = tmp_path / "worker.log"
    worker = start_worker(
        tmp_path,
        stderr_log=log,
        LOG_FORMAT="json",
        CELERY_QUIET="1",  # as deploy/entrypoint sets it
        PYTHONWARNINGS=NOT_AS_ROOT_WARNING,
    )
    try:
        order = place_order(client, "lb-order-2", webhook_url="https://partner.example/hooks")
        wait_until(
            lambda: "accounts.tasks.deliver_webhook" in log.read_text(),
            120,
            "the worker to provision the order and try its webhook",
            every=0.5,
        )
        time.sleep(1)  # the webhook task's last line
    finally:
        kill_group(worker, signal.SIGTERM)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED
    ours = [line for line in lines if line["request_id"] == "lb-order-2"]
    tasks = {line["task_name"] for line in ours}
    assert {"orders.tasks.provision_order", "accounts.tasks.deliver_webhook"} <= tasks
    assert all(line["task_id"] for line in ours)
    assert all(line["time"].endswith("+00:00") for line in lines)
    code = Sim.objects.get(issued_by_order=order).activation_code
    assert code.rsplit("$", 1)[1] not in log.read_text()


@pytest.mark.slow
def test_gunicorn_logs_json_lines_with_the_request_id_in_the_access_log(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, LOG_FORMAT="json", PORT=str(port), WEB_WORKERS="1")
    with open(tmp_path / "stdout", "w") as stdout, open(tmp_path / "stderr", "w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *GUNICORN_ARGS],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/health/live", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    request = urllib.request.Request(
        f"{base}/no-such-page/8992301234567890123", headers={"X-Request-ID": "lb-gunicorn"}
    )
    try:
        wait_until(up, 60, "gunicorn to answer")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=60)
    finally:
        kill_group(server, signal.SIGTERM)

    assert answer.value.code == 404 and answer.value.headers["X-Request-ID"] == "lb-gunicorn"
    assert (tmp_path / "stdout").read_text() == ""
    lines = [json.loads(line) for line in (tmp_path / "stderr").read_text().splitlines()]
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= {
        line["logger"] for line in lines
    }
    [access] = [line for line in lines if line["request_id"] == "lb-gunicorn" and "status" in line]
    assert access["logger"] == "gunicorn.access"
    assert (access["method"], access["status"]) == ("GET", "404")
    assert access["path"] == "/no-such-page/8992…0123"
    assert "8992301234567890123" not in (tmp_path / "stderr").read_text()
