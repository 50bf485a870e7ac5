"""Paying with JazzCash or Easypaisa on the site: the choice, the wallet number, the wait for
the phone's approval, and what staff see (the attempt, the dashboard, refunds sent by hand)."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order, Payment, Refund
from orders.payments.base import staff_refund_reference
from orders.services import refunds
from orders.services.errors import OrderError
from tests.factories import UserFactory
from tests.staff import login_staff

pytestmark = pytest.mark.django_db

WALLETS = ["jazzcash", "easypaisa"]


def staff_client() -> Client:
    """A client signed in (with two-factor) as an administrator."""
    client = Client()
    login_staff(client, UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture(autouse=True)
def wallets_on(settings):
    settings.LOCAL_WALLETS = {"jazzcash": "fake", "easypaisa": "fake"}


def pay_page(shopper, order) -> str:
    return shopper.get(reverse("orders:pay", args=[order.number])).content.decode()


def test_rupee_orders_offer_both_wallets_hosted_and_direct_with_their_logos(
    shopper, buy, esim_plan
):
    body = pay_page(shopper, buy(esim_plan, "PKR"))
    for wallet in WALLETS:
        assert f'value="{wallet}:{wallet}"' in body
        assert f'value="{wallet}:{wallet}_mobile"' in body
        assert f"portal/icons/{wallet}" in body
        assert f'value="manual:{wallet}"' not in body  # paid automatically, not by hand
    assert 'value="manual:bank_transfer"' in body and 'name="wallet_number"' in body
    assert "approve the payment on your phone" in body


def test_the_wallets_take_rupees_only(shopper, buy, esim_plan):
    order = buy(esim_plan, "USD")
    body = pay_page(shopper, order)
    assert "jazzcash" not in body and "easypaisa" not in body
    response = shopper.post(
        reverse("orders:pay", args=[order.number]),
        {"method": "jazzcash:jazzcash_mobile", "wallet_number": "0300 1234567"},
    )
    assert response.status_code == 200 and not Payment.objects.exists()


@pytest.mark.parametrize("number", ["", "12345", "0212 3456789", "+86 138 0013 8000"])
def test_a_direct_payment_needs_a_pakistani_mobile_number(shopper, buy, esim_plan, number):
    order = buy(esim_plan)
    response = shopper.post(
        reverse("orders:pay", args=[order.number]),
        {"method": "easypaisa:easypaisa_mobile", "wallet_number": number},
    )
    assert response.status_code == 200
    assert "Enter a Pakistani mobile number" in response.content.decode()
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED


@pytest.mark.parametrize("wallet", WALLETS)
def test_the_order_page_asks_to_approve_on_the_phone_while_the_wallet_waits(
    shopper, buy, esim_plan, wallet, monkeypatch
):
    from orders import tasks

    sent = []
    monkeypatch.setattr(tasks.charge_mobile_account, "delay_on_commit", sent.append)
    order = buy(esim_plan)
    response = shopper.post(
        reverse("orders:pay", args=[order.number]),
        {"method": f"{wallet}:{wallet}_mobile", "wallet_number": "0300 1234567"},
    )
    payment = Payment.objects.get()
    assert (payment.gateway, payment.method) == (wallet, f"{wallet}_mobile")
    assert payment.payer_account == "+923001234567" and payment.expires_at is not None
    assert sent == [payment.pk]
    assert reverse("orders:detail", args=[order.number]) in response["Location"]
    body = shopper.get(response["Location"]).content.decode()
    assert "Approve the payment on your phone" in body and "0300 1234567" in body
    assert "data-poll-url" in body  # the page follows the payment by itself
    assert reverse("orders:pay", args=[order.number]) not in body


@pytest.mark.parametrize("wallet", WALLETS)
def test_a_hosted_payment_hands_over_to_the_wallet_with_a_signed_form(
    shopper, buy, esim_plan, wallet, settings
):
    order = buy(esim_plan)
    response = shopper.post(
        reverse("orders:pay", args=[order.number]), {"method": f"{wallet}:{wallet}"}
    )
    payment = Payment.objects.get()
    assert response["Location"] == reverse(
        "wallet_checkout", args=[wallet, payment.external_reference]
    )
    handoff = shopper.get(response["Location"])
    body = handoff.content.decode()
    assert "data-auto-submit" in body and f"/pay/fake/{wallet}/" in body
    policy = handoff["Content-Security-Policy"]
    origin = settings.SITE_URL  # the fake's checkout page is on this site
    assert f"form-action 'self' https://checkout.stripe.com {origin};" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy


def test_someone_elses_hand_off_page_is_not_found(shopper, stranger, buy, esim_plan, client):
    order = buy(esim_plan)
    shopper.post(reverse("orders:pay", args=[order.number]), {"method": "jazzcash:jazzcash"})
    payment = Payment.objects.get()
    client.force_login(stranger)
    url = reverse("wallet_checkout", args=["jazzcash", payment.external_reference])
    assert client.get(url).status_code == 404


def test_staff_see_payments_by_method_on_the_dashboard(shopper, buy, esim_plan, monkeypatch):
    from orders import tasks

    monkeypatch.setattr(tasks.charge_mobile_account, "delay_on_commit", lambda pk: None)
    for _ in range(2):
        order = buy(esim_plan)
        shopper.post(
            reverse("orders:pay", args=[order.number]),
            {"method": "jazzcash:jazzcash_mobile", "wallet_number": "0300 1234567"},
        )
    body = staff_client().get(reverse("admin:index")).content.decode()
    section = body.split("Payments by method, 7 days", 1)[1].split("</table>", 1)[0]
    assert "JazzCash mobile account · jazzcash</th><td>PKR</td><td>0</td>" in section
    assert "<td>2</td><td>0</td></tr>" in section  # two waiting, none failed


def test_a_refund_the_wallet_cannot_send_waits_for_staff_and_is_marked_sent(ready_order):
    payment = ready_order.payments.get()
    refund = Refund.objects.create(
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        idempotency_key="r1",
    )
    refund.external_reference = staff_refund_reference("easypaisa", refund)
    refund.save()
    assert list(refunds.awaiting_staff()) == [refund]
    client = staff_client()
    problem = client.get(reverse("admin:orders_order_changelist"), {"problem": "staff_refund"})
    assert ready_order.number in problem.content.decode()
    response = client.post(
        reverse("admin:orders_refund_changelist"),
        {"action": "mark_sent_by_staff", "_selected_action": [refund.pk]},
        follow=True,
    )
    assert "refund recorded as sent" in response.content.decode()
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and payment.status == Payment.Status.REFUNDED
    assert not refunds.awaiting_staff().exists()
    assert not refunds.mark_refund_sent_by_staff(refund=refund, actor=None)


def test_a_refund_its_gateway_sends_cannot_be_marked_sent_by_staff(ready_order):
    payment = ready_order.payments.get()
    refund = Refund.objects.create(
        payment=payment,
        amount=Decimal("1"),
        currency=payment.currency,
        idempotency_key="r2",
        external_reference="re_test_r2",
    )
    with pytest.raises(OrderError):
        refunds.mark_refund_sent_by_staff(refund=refund, actor=None)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
