"""The HTTP benchmark's pieces that need no services: the ceiling's settings, the table, wrk's
output (the benchmark itself is run by hand: docs/benchmarks.md)."""

import http.server
import importlib
import threading
import time

import pytest

from benchmarks import load, table
from tests.factories import OrderFactory

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8000/bare/
  2 threads and 16 connections
  Latency Distribution
     50%   17.12ms
     75%   30.23ms
     90%   42.74ms
     99%    1.21s
  300 requests in 3.02s, 1.18MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:     99.34
"""


def test_the_ceiling_settings_import():
    settings = importlib.import_module("benchmarks.ceiling.settings")
    assert settings.INSTALLED_APPS == ["rest_framework", "benchmarks.ceiling"]
    assert settings.ROOT_URLCONF == "benchmarks.ceiling.urls"
    assert settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] == []


WORKER_SETTINGS = (
    "task_acks_late",
    "task_reject_on_worker_lost",
    "worker_prefetch_multiplier",
    "task_ignore_result",
    "task_store_errors_even_if_ignored",
    "worker_max_memory_per_child",
    "worker_max_tasks_per_child",
)


def test_the_ceiling_worker_has_the_portals_worker_settings():
    from benchmarks.ceiling.tasks import app as ceiling
    from portal.celery import app as portal

    assert {name: ceiling.conf[name] for name in WORKER_SETTINGS} == {
        name: portal.conf[name] for name in WORKER_SETTINGS
    }
    assert portal.conf.worker_max_tasks_per_child == 10_000


def test_wrk_output_is_read():
    assert load.parse_wrk(WRK_OUTPUT) == load.Run(
        rps=99.34, p50=17.12, p99=1210.0, requests=300, bad=7
    )


def test_the_table_shows_medians_and_ratios():
    portal = table.medians(
        [
            {"rps": 100, "p50": 10, "p99": 30},
            {"rps": 120, "p50": 12, "p99": 90},
            {"rps": 90, "p50": 9, "p99": 40},
        ]
    )
    rows = [
        table.row("catalog", portal, {"rps": 400.0, "p50": 2, "p99": 5}, "bare DRF view"),
        table.row("pipeline", portal, {"rps": 1000.0}, "Celery no-op", "orders/s", "tasks/s"),
    ]
    assert table.markdown(rows).splitlines() == [
        "| measure | portal | ceiling | ratio |",
        "|---|---|---|---|",
        "| catalog | 100 req/s, p50 10 ms, p99 40 ms "
        "| bare DRF view: 400 req/s, p50 2 ms, p99 5 ms | 0.250 |",
        "| pipeline | 100 orders/s, p50 10 ms, p99 40 ms | Celery no-op: 1,000 tasks/s | 0.100 |",
    ]


def test_posts_are_each_sent_once_and_their_answers_read_whatever_their_framing():
    """Answers with a length on a kept connection, with a length then closed (gunicorn's sync
    workers), and without a length (the body ends when the server closes)."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            number = int(self.headers["X-Number"])
            received.append((number, body))
            answer = b'{"number": %d}' % number
            self.send_response((201, 400, 200)[number % 3])
            if number % 3 != 2:
                self.send_header("Content-Length", str(len(answer)))
            if number % 3 != 0:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    requests = [({"X-Number": str(n)}, b"order %d" % n) for n in range(12)]
    try:
        answers = load.post(f"http://127.0.0.1:{server.server_port}/o/", requests, connections=4)
    finally:
        server.shutdown()
    assert [status for status, _ in answers] == [201, 400, 200] * 4
    assert sorted(received) == [(n, b"order %d" % n) for n in range(12)]
    unanswered = load.post("http://127.0.0.1:9/o/", requests[:2], connections=2)  # refused
    assert [status for status, _ in unanswered] == [0, 0]


def test_paced_posts_are_sent_on_schedule_and_timed_from_it():
    """Request i leaves no earlier than i / rate after the start, whatever the connections."""
    arrivals = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.append((time.perf_counter(), self.headers["X-Number"]))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/orders/"
    requests = [({"X-Number": str(n)}, b"{}") for n in range(6)]
    before = time.perf_counter()
    try:
        answers = load.post(url, requests, connections=3, rate=20)
    finally:
        server.shutdown()
    assert [status for status, _ in answers] == [201] * 6
    assert all(ms >= 0 for _, ms in answers)
    assert sorted(int(number) for _, number in arrivals) == list(range(6))
    for when, number in arrivals:
        assert when - before >= int(number) / 20


@pytest.mark.django_db
def test_the_pipeline_counts_the_rounds_orders_done_and_fulfilled():
    from benchmarks.http_data import finished_orders

    statuses = {"bench-0-1": "fulfilled", "bench-0-2": "needs_attention", "bench-0-3": "paid"}
    for reference, status in {**statuses, "bench-1-1": "fulfilled"}.items():
        OrderFactory(customer_reference=reference, status=status)
    assert finished_orders("bench-0") == (2, 1)
