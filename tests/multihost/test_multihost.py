"""The portal on several hosts, as docs/deploy.md deploys it, through a worker host's crash and a
broker outage: every order is fulfilled exactly once.

Hosts (tests/multihost/network.py): ``db`` (PostgreSQL, Redis, an SMTP catcher), ``web1`` and
``web2`` (gunicorn), ``worker1`` and ``worker2`` (Celery workers), ``beat`` and ``client`` (the
partner's shop and the card gateway). Each portal host runs ``deploy/entrypoint <role>`` in
production mode, as the image does.
"""

import json
import time
from collections import Counter

import pytest

from orders.models import Order, ProvisioningAttempt, Sim
from plans.models import SandboxOrder
from tests.multihost.agent import CARD_PAYMENTS, PARTNER_ORDERS
from tests.multihost.cluster import Cluster
from tests.multihost.network import Network
from tests.processes import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.xdist_group("processes")]

LAYOUT = {
    "db": ("service", "broker"),
    "web1": ("service", "broker"),
    "web2": ("service", "broker"),
    "worker1": ("service", "broker"),
    "worker2": ("service", "broker"),
    "beat": ("service", "broker"),
    "client": ("service", "broker"),
}
ORDERS = PARTNER_ORDERS + CARD_PAYMENTS
KILL_WORKER_AT = 40  # fulfilled orders
CUT_BROKER_AT = 100  # partner orders placed
OUTAGE_SECONDS = 10
ORDER_TABLE = Order._meta.db_table
SIM_TABLE = Sim._meta.db_table
UPSTREAM_TABLE = SandboxOrder._meta.db_table


@pytest.fixture
def cluster(tmp_path):
    network = Network.build(LAYOUT)
    print(
        f"\nnetwork: {network.mode}"
        + (f" (namespaces refused: {network.refusal})" if network.mode == "loopback" else "")
    )
    deployment = Cluster(network)
    try:
        yield deployment
    finally:
        deployment.close(keep_logs_in=tmp_path)


def fulfilled(cluster: Cluster) -> int:
    return cluster.scalar(f"SELECT count(*) FROM {ORDER_TABLE} WHERE status = 'fulfilled'")


def provisioning_tasks(cluster: Cluster, host: str, state: str) -> set[str]:
    """Ids of the provisioning tasks a worker host logged as ``received`` or ``succeeded``."""
    return {
        line.split("provision_order[", 1)[1].split("]", 1)[0]
        for line in cluster.read_log(f"{host}-worker").splitlines()
        if "orders.tasks.provision_order[" in line and f"] {state}" in line
    }


def running_provisioning(cluster: Cluster, host: str) -> set[str]:
    received = provisioning_tasks(cluster, host, "received")
    return received - provisioning_tasks(cluster, host, "succeeded")


def kill_mid_provisioning(cluster: Cluster, host: str, timeout: float = 120) -> set[str]:
    """Kill ``host`` while it holds provisioning tasks not yet finished; their ids.

    The host is frozen before its log is read, so the tasks seen running cannot finish between
    the look and the kill; a host found idle is thawed and looked at again."""
    worker = cluster.host(host)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.freeze()
        running = running_provisioning(cluster, host)
        if running:
            worker.kill()
            return running
        worker.thaw()
        time.sleep(0.05)
    raise AssertionError(f"{host} held no provisioning task within {timeout} s")


def partner_orders(cluster: Cluster) -> int:
    return cluster.scalar(f"SELECT count(*) FROM {ORDER_TABLE} WHERE partner_id IS NOT NULL")


def log_records(cluster: Cluster, name: str) -> list[dict]:
    """The JSON log lines of one process (production logs are JSON)."""
    records = []
    for line in cluster.read_log(name).splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def followed_to_a_worker(cluster: Cluster, summary: dict) -> dict[str, list[str]]:
    """Partner orders whose request id is in a web host's log and on a worker's provisioning
    lines: {request id: [the log lines' sources]}."""
    web = {
        record["request_id"]: host
        for host in ("web1", "web2")
        for record in log_records(cluster, f"{host}-web")
        if record.get("request_id")
    }
    workers = {
        record["request_id"]: host
        for host in ("worker1", "worker2")
        for record in log_records(cluster, f"{host}-worker")
        if record.get("task_name") == "orders.tasks.provision_order" and record.get("request_id")
    }
    return {
        result["request_id"]: [web[result["request_id"]], workers[result["request_id"]]]
        for result in summary["results"]
        if result["kind"] == "partner" and result["request_id"] in web.keys() & workers.keys()
    }


def unfulfilled(cluster: Cluster) -> str:
    """The orders not fulfilled, with their provisioning attempts (for a failure's report)."""
    attempts = ProvisioningAttempt._meta.db_table
    rows = cluster.rows(
        f"SELECT o.number, o.status, o.next_attempt_at, a.number, a.outcome, a.error "
        f"FROM {ORDER_TABLE} o LEFT JOIN {attempts} a ON a.order_id = o.id "
        "WHERE o.status <> 'fulfilled' ORDER BY o.id, a.number"
    )
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def readiness_changes(path) -> list[bool]:
    """The probe's answers, with repeats removed: [True, False, True] is red once."""
    changes = []
    for line in path.read_text().splitlines():
        ready = json.loads(line)["ready"]
        if not changes or changes[-1] != ready:
            changes.append(ready)
    return changes


def test_orders_are_fulfilled_once_across_hosts_through_a_worker_crash_and_a_broker_cut(
    cluster,
):
    timings = {}
    started = time.monotonic()
    cluster.start_services()
    cluster.release()
    checked = cluster.run_role("web1", "manage", "check", "--deploy", timeout=120)
    assert checked.returncode == 0 and "ERROR" not in checked.stderr, checked.stderr
    timings["services and release"] = time.monotonic() - started
    cluster.seed()
    for host, role in [
        ("web1", "web"),
        ("web2", "web"),
        ("worker1", "worker"),
        ("worker2", "worker"),
        ("beat", "beat"),
    ]:
        cluster.start_role(host, role)
    urls = cluster.web_urls()
    cluster.agent("client", "wait-ready", *urls)
    timings["hosts ready"] = time.monotonic() - started

    probe_log = cluster.workdir / "probe.jsonl"
    cluster.start_agent("client", "probe", "probe", urls[0], str(probe_log))
    results_file = cluster.workdir / "load.json"
    load = cluster.start_agent(
        "client", "load", "load", str(cluster.workdir / "seed.json"), str(results_file), *urls
    )
    load_started = time.monotonic()

    wait_until(lambda: fulfilled(cluster) >= KILL_WORKER_AT, 120, "the first orders", every=0.1)
    killed_mid_task = kill_mid_provisioning(cluster, "worker1")
    timings["worker1 killed"] = time.monotonic() - load_started

    wait_until(lambda: partner_orders(cluster) >= CUT_BROKER_AT, 180, "more orders", every=0.1)
    cluster.network.cut_broker(cluster.redis)
    timings["broker cut"] = time.monotonic() - load_started
    time.sleep(OUTAGE_SECONDS)  # deliberate: the outage lasts this long
    cluster.network.restore_broker(cluster.redis)

    wait_until(lambda: load.poll() is not None, 300, "the client to finish", every=0.5)
    assert load.returncode == 0, cluster.read_log("load")
    summary = json.loads(results_file.read_text())
    assert Counter((result["kind"], result["status"]) for result in summary["results"]) == {
        ("partner", 201): PARTNER_ORDERS,
        ("card", 200): CARD_PAYMENTS,
    }
    try:
        wait_until(
            lambda: fulfilled(cluster) >= ORDERS and not unfulfilled(cluster),
            120,
            "every order to be fulfilled",
            every=1,
        )
    except BaseException:
        print(unfulfilled(cluster))
        raise
    timings["all fulfilled"] = time.monotonic() - load_started

    print(
        f"\n{ORDERS} orders on 2 web and 2 worker hosts ({cluster.network.mode}); "
        f"{len(killed_mid_task)} provisioning tasks running on worker1 when it was killed; "
        f"{summary['errors']} client retries; slowest answer "
        f"{max(result['seconds'] for result in summary['results']):.1f} s; "
        f"{len(followed_to_a_worker(cluster, summary))} partner orders followed by their "
        "request id from a web host to a worker\n"
        + "\n".join(f"  {name:<22} {seconds:7.1f} s" for name, seconds in timings.items())
    )

    assert cluster.scalar(f"SELECT count(*) FROM {ORDER_TABLE}") == ORDERS  # no order twice
    duplicated = cluster.rows(
        f"SELECT reference FROM {UPSTREAM_TABLE} WHERE operation = 'issue' "
        "GROUP BY reference HAVING count(*) > 1"
    )
    assert duplicated == []
    assert (
        cluster.scalar(f"SELECT count(*) FROM {UPSTREAM_TABLE} WHERE operation = 'issue'") == ORDERS
    )
    assert cluster.scalar(f"SELECT count(DISTINCT issued_by_order_id) FROM {SIM_TABLE}") == ORDERS
    assert cluster.scalar(f"SELECT count(*) FROM {SIM_TABLE}") == ORDERS
    assert killed_mid_task
    assert provisioning_tasks(cluster, "worker1", "succeeded")
    assert provisioning_tasks(cluster, "worker2", "succeeded")
    for web in ("web1", "web2"):  # both web hosts took orders
        assert any(
            record.get("path") == "/api/v1/orders/" and record.get("status") == "201"
            for record in log_records(cluster, f"{web}-web")
        )
    wait_until(  # ready, not ready through the outage, ready again
        lambda: readiness_changes(probe_log)[:3] == [True, False, True],
        30,
        "web1 to be ready again after the broker outage",
        every=0.5,
    )
    followed = followed_to_a_worker(cluster, summary)
    assert len(followed) >= PARTNER_ORDERS // 2  # the others were sent again by the dispatcher
