"""README command one really brings up the web server, a worker, beat and the broker."""

import os
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from tests.processes import ROOT, clean_env, free_port, manage, wait_until

# Places an order for the demo customer, pays it by posting a signed test-gateway event to the
# running web server, and waits for the worker process to provision it.
PAY_THROUGH_THE_TEST_GATEWAY = """
import time, urllib.request
from accounts.models import User
from orders.models import Order
from core import signing
from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import Plan
order = place_purchase(plan=Plan.objects.filter(kind="esim").first(),
                    customer=User.objects.get(email="customer@paksim.example"), currency="PKR")
payment, _ = start_payment(order=order, gateway_key="test", method="card")
body = build_event("checkout.session.completed", payment, payment_status="paid")
request = urllib.request.Request("http://127.0.0.1:%d/webhooks/test/", data=body, headers={
    SIGNATURE_HEADER: signing.sign(body, signing_secret()), "Content-Type": "application/json"})
assert urllib.request.urlopen(request, timeout=10).status == 200
for _ in range(100):
    order.refresh_from_db()
    if order.status == "fulfilled":
        break
    time.sleep(0.2)
sim = order.issued_sims.first()
print(order.status, sim.iccid if sim else "", sim.activation_code if sim else "")
"""


class OutputCollector(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self):
        for line in self.stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


def wait_for(predicate, timeout: float, what: str, output: OutputCollector):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"Timed out waiting for {what}. Output so far:\n{output.text[-4000:]}")


def home_page_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200 and b"Pakistan" in response.read()
    except OSError:
        return False


@pytest.mark.slow
def test_run_command_serves_the_portal_and_runs_tasks_in_the_worker(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, PORTAL_PORT=str(port))
    process = subprocess.Popen(
        ["bash", "scripts/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = OutputCollector(process.stdout)
    output.start()
    try:
        wait_for(lambda: home_page_answers(port), 180, "the home page", output)
        wait_for(lambda: "beat: Starting" in output.text, 60, "celery beat", output)
        answer = manage("check_worker", "--timeout", "60", env=env)
        assert answer.returncode == 0, answer.stderr
        assert "pong from" in answer.stdout
        paid = manage("shell", "-v", "0", "-c", PAY_THROUGH_THE_TEST_GATEWAY % port, env=env)
        assert paid.returncode == 0, paid.stderr
        assert paid.stdout.startswith("fulfilled 8992"), paid.stdout + paid.stderr
        assert "LPA:1$" in paid.stdout
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    for login in ("customer@paksim.example", "staff@paksim.example", "Bearer demopartner."):
        assert login in output.text
    worker_pid = int(answer.stdout.rsplit("pid ", 1)[1].rstrip(")\n"))
    assert "Task portal.ping[" in output.text
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
    wait_until(lambda: not _group_alive(process.pid), 10, "every process of the group to end")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
