"""JazzCash and Easypaisa against real worker processes and the real broker: callbacks replayed
twice, out of order, forged or for another amount through the real endpoints end in one payment
and one SIM; a payment whose callback never came is settled by the reconciler's inquiry."""

import json
import signal
from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts.models import User
from orders import tasks
from orders.models import FakeWalletTransaction, Order, Payment, Sim, WebhookEvent
from orders.payments.fakes import easypaisa as easypaisa_fake
from orders.payments.fakes import jazzcash as jazzcash_fake
from orders.services.payments import start_payment
from orders.services.placing import place_purchase
from plans.models import Plan
from tests.processes import kill_group, start_worker, wait_until
from tests.worlds import CUSTOMER_EMAIL, build_world

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NUMBER = "03451234567"
WORKER_ENV = {"WALLET_INQUIRY_AFTER_SECONDS": "0"}


def jazzcash_ipn(captured) -> tuple[str, dict]:
    """The IPN JazzCash would have posted: (path, request arguments)."""
    body = json.dumps(captured)
    return "/webhooks/wallets/jazzcash/", {"data": body, "content_type": "application/json"}


def easypaisa_ipn(captured) -> tuple[str, dict]:
    url = easypaisa_fake.contract.merchant().ipn_url(captured.reference)
    return f"/webhooks/wallets/easypaisa/?{urlencode({'url': url})}", {}


WALLETS = {
    "jazzcash": (jazzcash_fake, lambda txn: jazzcash_fake.decide(txn, paid=True), jazzcash_ipn),
    "easypaisa": (
        easypaisa_fake,
        lambda txn: easypaisa_fake.record_outcome(txn, approved=True),
        easypaisa_ipn,
    ),
}


@pytest.fixture
def dropped_ipns(monkeypatch):
    """The fakes' IPNs are kept here instead of sent."""
    dropped = []
    for fake, _approve, _ipn in WALLETS.values():
        monkeypatch.setattr(fake, "deliver_ipn", dropped.append)
    return dropped


def charged_and_approved(wallet: str, tmp_path, dropped_ipns):
    """A direct charge sent by a real worker and approved on the phone, its IPN held back."""
    build_world()
    plan = Plan.objects.filter(kind="esim").supplied().first()
    customer = User.objects.get(email=CUSTOMER_EMAIL)
    order = place_purchase(plan=plan, customer=customer, currency="PKR")
    payment, _ = start_payment(
        order=order, gateway_key=wallet, method=f"{wallet}_mobile", payer_account=NUMBER
    )
    wait_until(
        lambda: FakeWalletTransaction.objects.filter(reference=payment.external_reference).exists(),
        60,
        "the worker to send the charge to the wallet",
    )
    txn = FakeWalletTransaction.objects.get(reference=payment.external_reference)
    WALLETS[wallet][1](txn)
    assert len(dropped_ipns) == 1
    return order, payment


def one_payment_one_sim(order: Order, payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.payments.filter(status=Payment.Status.SUCCEEDED).count() == 1
    assert Sim.objects.filter(issued_by_order=order).count() == 1


@pytest.mark.parametrize("wallet", list(WALLETS))
def test_replayed_forged_and_mismatched_callbacks_make_one_payment_and_one_sim(
    wallet, real_broker, tmp_path, dropped_ipns
):
    real_broker.control.purge()
    workers = [start_worker(tmp_path / f"w{n}", **WORKER_ENV) for n in range(2)]
    try:
        order, payment = charged_and_approved(wallet, tmp_path, dropped_ipns)
        path, arguments = WALLETS[wallet][2](dropped_ipns[0])
        client = Client()
        send = client.post if wallet == "jazzcash" else client.get
        if wallet == "jazzcash":  # another amount, signed by someone without the salt
            forged = {**dropped_ipns[0], "pp_Amount": "100"}
            assert (
                send(path, json.dumps(forged), content_type="application/json").status_code == 400
            )
        else:  # a notice pointing anywhere but Easypaisa is refused before anything is kept
            foreign = urlencode({"url": "https://easypay.example.com/order-status/x/y"})
            assert send(f"/webhooks/wallets/easypaisa/?{foreign}").status_code == 400
        for _ in range(3):  # the IPN sent again and again while the workers act on it
            assert send(path, **arguments).status_code == 200
        wait_until(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
            90,
            "the workers to confirm the payment with the wallet and provision the order",
        )
        one_payment_one_sim(order, payment)
        assert WebhookEvent.objects.filter(source=wallet).count() == 1
        assert send(path, **arguments).status_code == 200  # late, after everything
        wait_until(
            lambda: not WebhookEvent.objects.filter(source=wallet, outcome="pending").exists(),
            30,
            "every recorded callback to be closed",
        )
        one_payment_one_sim(order, payment)
    finally:
        for worker in workers:
            kill_group(worker, signal.SIGTERM)


@pytest.mark.parametrize("wallet", list(WALLETS))
def test_a_payment_whose_callback_never_came_is_settled_by_the_reconciler(
    wallet, real_broker, tmp_path, dropped_ipns
):
    real_broker.control.purge()
    worker = start_worker(tmp_path, **WORKER_ENV)
    try:
        order, payment = charged_and_approved(wallet, tmp_path, dropped_ipns)
        assert not WebhookEvent.objects.filter(source=wallet).exists()  # no callback at all
        wait_until(
            lambda: Order.objects.get(pk=order.pk).status == Order.Status.FULFILLED,
            90,
            "the reconciler to ask the wallet and the order to be provisioned",
            every=2,
            action=lambda: tasks.reconcile_wallet_payments.delay(),
        )
        one_payment_one_sim(order, payment)
        payment.refresh_from_db()
        assert payment.gateway_reference and payment.gateway_status
    finally:
        kill_group(worker, signal.SIGTERM)
