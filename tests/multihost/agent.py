"""What the multi-host test runs on its hosts (``python -m tests.multihost.agent <command>``).

* ``seed``: the world (catalog, partner with an API key, customer) and the customers' card orders
  waiting for payment; prints JSON with what the client needs.
* ``wait-ready URL...``: until every ``/health/ready`` answers 200.
* ``probe URL OUT``: polls ``/health/ready`` every 0.2 s, one JSON line per answer, until killed.
* ``load SEED_JSON OUT URL...``: the partner orders and the card payments, spread over the web
  hosts, each retried with its Idempotency-Key (or the same signed event) until answered.
"""

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

PARTNER_ORDERS = 200
CARD_PAYMENTS = 20
CLIENT_THREADS = 8
# The partner's shop sends its orders at this pace, so the faults happen while orders arrive.
PARTNER_ORDERS_PER_SECOND = 6
REQUEST_TIMEOUT_SECONDS = 10
# Behind the TLS load balancer: what it tells the portal.
FORWARDED = {"X-Forwarded-Proto": "https"}


def seed() -> dict:
    """The world, its partner's wallet topped up for the load, and the card orders to pay."""
    import django

    django.setup()
    from decimal import Decimal

    from accounts.models import Partner
    from core import signing
    from orders.payments.test import SIGNATURE_HEADER, build_event, signing_secret
    from orders.services.payments import start_payment
    from orders.services.placing import place_purchase
    from plans.models import Plan, Provider
    from tests.factories import WalletEntryFactory
    from tests.worlds import PARTNER_KEY_PREFIX, PARTNER_KEY_SECRET, build_world

    world = build_world()
    Provider.objects.update(settings={"latency_seconds": 0.1})
    plan = Plan.objects.filter(kind="esim", operator__code="zong").order_by("pk").first()
    partner = Partner.objects.get()
    WalletEntryFactory(partner=partner, amount=Decimal("1000000"), reason="Load test top-up")
    payments = []
    for _ in range(CARD_PAYMENTS):
        order = place_purchase(plan=plan, customer=world.customer, currency="PKR")
        payment, _ = start_payment(order=order, gateway_key="test", method="card")
        body = build_event("checkout.session.completed", payment, payment_status="paid")
        payments.append(
            {
                "order": order.number,
                "body": body.decode(),
                "headers": {SIGNATURE_HEADER: signing.sign(body, signing_secret())},
            }
        )
    return {
        "plan": plan.pk,
        "api_key": f"{PARTNER_KEY_PREFIX}.{PARTNER_KEY_SECRET}",
        "payments": payments,
    }


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/health/ready", timeout=3).status_code == 200
    except requests.RequestException:
        return False


def wait_ready(urls: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(ready(url) for url in urls):
        if time.monotonic() > deadline:
            sys.exit(f"not ready after {timeout} s: {urls}")
        time.sleep(0.3)


def probe(url: str, out: str) -> None:
    with open(out, "a") as log:
        while True:
            started = time.time()
            log.write(json.dumps({"at": started, "ready": ready(url)}) + "\n")
            log.flush()
            time.sleep(max(0.0, 0.2 - (time.time() - started)))


def try_again(response: requests.Response | None) -> bool:
    """No answer, a server error, a rate limit, or 409 idempotency_in_progress (an earlier try
    with the key is still running): the partner's shop tries again with the same key."""
    return (
        response is None
        or response.status_code >= 500
        or response.status_code == 429
        or (response.status_code == 409 and "idempotency_in_progress" in response.text)
    )


class Sender:
    """Sends each request until a web host answers it, alternating hosts on every try."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        self.errors = 0
        self.lock = threading.Lock()
        self.local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def post(self, number: int, path: str, **kwargs) -> tuple[requests.Response, float]:
        started = time.monotonic()
        for attempt in range(1000):
            url = self.urls[(number + attempt) % len(self.urls)]
            try:
                response = self.session().post(
                    url + path, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
                )
            except requests.RequestException:
                response = None
            if not try_again(response):
                return response, time.monotonic() - started
            with self.lock:
                self.errors += 1
            time.sleep(0.5)
        raise RuntimeError(f"{path}: no answer")


def load(seed_data: dict, out: str, urls: list[str]) -> None:
    sender = Sender(urls)
    auth = {"Authorization": f"Bearer {seed_data['api_key']}", **FORWARDED}

    def partner_order(number: int) -> dict:
        time.sleep(max(0.0, started + number / PARTNER_ORDERS_PER_SECOND - time.monotonic()))
        response, seconds = sender.post(
            number,
            "/api/v1/orders/",
            json={"plan": seed_data["plan"], "customer_reference": f"load-{number}"},
            headers={**auth, "Idempotency-Key": f"multihost-{number}"},
        )
        return {
            "kind": "partner",
            "status": response.status_code,
            "order": response.json().get("number"),
            "request_id": response.headers.get("X-Request-ID", ""),
            "seconds": seconds,
        }

    def card_payment(number: int) -> dict:
        payment = seed_data["payments"][number]
        answers = []
        for host in range(len(urls)):  # the gateway's event reaches every web host (duplicates)
            response, seconds = sender.post(
                number + host,
                "/webhooks/test/",
                data=payment["body"].encode(),
                headers={**payment["headers"], **FORWARDED, "Content-Type": "application/json"},
            )
            answers.append(response.status_code)
        return {
            "kind": "card",
            "status": max(answers),
            "order": payment["order"],
            "seconds": seconds,
        }

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        cards = pool.map(card_payment, range(len(seed_data["payments"])))
        partners = pool.map(partner_order, range(PARTNER_ORDERS))
        results = [*cards, *partners]
    summary = {"seconds": time.monotonic() - started, "errors": sender.errors, "results": results}
    with open(out, "w") as output:
        json.dump(summary, output)


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "seed":
        print(json.dumps(seed()))
    elif command == "wait-ready":
        wait_ready(args)
    elif command == "probe":
        probe(*args)
    elif command == "load":
        with open(args[0]) as seed_file:
            load(json.load(seed_file), args[1], args[2:])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
