"""Buying through the site: plan page → buy → pay → gateway → order page, and every refusal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, Payment
from orders.services.placing import place_purchase, place_recharge, place_renewal
from plans.models import Plan, PlanKind, Promotion
from tests.site.conftest import PHONE_CONFIRMED

pytestmark = pytest.mark.django_db


def test_buy_pay_and_follow_the_order_until_it_is_ready(
    shopper, esim_plan, django_capture_on_commit_callbacks
):
    response = shopper.post(
        reverse("orders:buy", args=[esim_plan.pk]), {"currency": "PKR", **PHONE_CONFIRMED}
    )
    order = Order.objects.get()
    assert (order.kind, order.currency, order.total) == ("purchase", "PKR", Decimal("563"))
    assert (order.cost, order.cost_currency) == (esim_plan.cost, esim_plan.cost_currency)
    pay_url = reverse("orders:pay", args=[order.number])
    assert response["Location"] == pay_url

    body = shopper.get(pay_url).content.decode()
    assert "Jazz Weekly 10 GB" in body and "PKR 563.00" in body
    assert "Card (test gateway, no real money)" in body
    assert 'value="manual:bank_transfer"' in body and 'value="test:alipay"' not in body

    response = shopper.post(pay_url, {"method": "test:card"})
    order_url = reverse("orders:detail", args=[order.number])
    gateway_url = response["Location"]
    assert gateway_url.startswith("/pay/test/cs_test_")
    assert "next=http%3A%2F%2Ftestserver" + order_url.replace("/", "%2F") in gateway_url
    assert shopper.get(order_url).content.decode().count("data-poll-url") == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = shopper.post(gateway_url, {"action": "pay"})
    assert response["Location"] == f"http://testserver{order_url}?returned=1"

    order.refresh_from_db()
    sim = order.issued_sims.get()
    assert order.status == Order.Status.FULFILLED
    install = reverse("sims:install", args=[sim.iccid])
    for url in (order_url, reverse("orders:status", args=[order.number])):
        body = shopper.get(url).content.decode()
        assert "Ready" in body and f'href="{install}"' in body
        assert "data-poll-url" not in body
    assert len(mail.outbox) == 1 and order.number in mail.outbox[0].subject


ZH = {"accept-language": "zh-CN,zh;q=0.9"}


def badge(body: str) -> str:
    return body.split('<span class="badge ', 1)[1].split(">", 1)[1].split("<", 1)[0]


def test_back_from_paying_the_order_shows_confirming_then_being_set_up_then_ready(
    shopper, buy, esim_plan, django_capture_on_commit_callbacks
):
    order = buy(esim_plan)
    gateway_url = shopper.post(reverse("orders:pay", args=[order.number]), {"method": "test:card"})[
        "Location"
    ]
    with django_capture_on_commit_callbacks() as webhook:  # the return lands before the webhook
        back_url = shopper.post(gateway_url, {"action": "pay"})["Location"]
    status_url = reverse("orders:status", args=[order.number]) + "?returned=1"
    for url in (back_url, status_url):
        english = shopper.get(url).content.decode()
        chinese = shopper.get(url, headers=ZH).content.decode()
        assert badge(english) == "Confirming payment" and badge(chinese) == "正在确认付款"
        assert "We are confirming your payment" in english
        assert "正在向支付机构确认您的付款" in chinese
        assert "Pay another way" not in english and "换一种方式支付" not in chinese
        assert f'data-poll-url="{status_url}"' in english
    plain = shopper.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert badge(plain) == "Awaiting payment" and "Pay another way" in plain

    with django_capture_on_commit_callbacks() as provisioning:
        webhook[0]()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    english = shopper.get(back_url).content.decode()
    chinese = shopper.get(back_url, headers=ZH).content.decode()
    assert badge(english) == "Being set up" and badge(chinese) == "开通中"
    assert "Payment received" in english and "Pay another way" not in english

    Order.objects.filter(pk=order.pk).update(status=Order.Status.PROVISIONING)
    assert badge(shopper.get(status_url, headers=ZH).content.decode()) == "开通中"
    with django_capture_on_commit_callbacks(execute=True):
        provisioning[0]()
    english = shopper.get(status_url).content.decode()
    chinese = shopper.get(status_url, headers=ZH).content.decode()
    assert badge(english) == "Ready" and badge(chinese) == "已就绪"
    assert "data-poll-url" not in english


def test_status_fragment_polls_while_the_order_is_on_its_way(shopper, buy, esim_plan):
    order = buy(esim_plan)
    status_url = reverse("orders:status", args=[order.number])
    body = shopper.get(status_url).content.decode()
    assert body.startswith('<section class="card" id="order-status" data-poll-url="')
    assert "not paid yet" in body and reverse("orders:pay", args=[order.number]) in body
    assert "no-cache" in shopper.get(status_url)["Cache-Control"]


def test_buying_in_yuan_offers_alipay_and_wechat_but_no_manual_methods(shopper, buy, esim_plan):
    order = buy(esim_plan, currency="CNY")
    assert (order.currency, order.total) == ("CNY", Decimal("14.99"))
    body = shopper.get(reverse("orders:pay", args=[order.number])).content.decode()
    assert 'value="test:alipay"' in body and 'value="test:wechat_pay"' in body
    assert "manual:" not in body and "CNY 14.99" in body


def test_manual_payment_needs_a_reference(shopper, buy, esim_plan):
    order = buy(esim_plan)
    pay_url = reverse("orders:pay", args=[order.number])
    response = shopper.post(pay_url, {"method": "manual:bank_transfer", "reference": "  "})
    assert response.status_code == 200
    assert "Enter the reference of your payment." in response.content.decode()
    assert not Payment.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.CREATED


def test_manual_payment_waits_for_staff(shopper, buy, esim_plan):
    order = buy(esim_plan)
    response = shopper.post(
        reverse("orders:pay", args=[order.number]),
        {"method": "manual:bank_transfer", "reference": "TID 8812 3341"},
    )
    order_url = reverse("orders:detail", args=[order.number])
    assert response["Location"] == f"http://testserver{order_url}?returned=1"
    payment = order.payments.get()
    assert (payment.gateway, payment.method, payment.status) == (
        "manual",
        "bank_transfer",
        "pending",
    )
    assert payment.customer_reference == "TID 8812 3341"
    body = shopper.get(response["Location"]).content.decode()
    assert "waiting for staff to confirm your transfer" in body and "TID 8812 3341" in body
    assert badge(body) == "Awaiting payment" and "Pay another way" in body


def test_unknown_payment_method_is_a_form_error(shopper, buy, esim_plan):
    order = buy(esim_plan, currency="USD")
    response = shopper.post(
        reverse("orders:pay", args=[order.number]),
        {"method": "manual:bank_transfer", "reference": "1"},
    )
    assert response.status_code == 200 and response.context["form"].errors["method"]
    assert not Payment.objects.exists()


def test_bad_promotion_code_is_refused_and_no_order_is_placed(shopper, esim_plan):
    response = shopper.post(
        reverse("orders:buy", args=[esim_plan.pk]),
        {"currency": "PKR", "promotion_code": "NOPE", **PHONE_CONFIRMED},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["promotion_code"] == [
        "This promotion code is not valid."
    ]
    assert "This promotion code is not valid." in response.content.decode()
    assert not Order.objects.exists()


def test_promotion_code_lowers_the_total(shopper, buy, esim_plan):
    Promotion.objects.create(
        code="welcome10", percent_off=Decimal(10), starts_at=timezone.now() - timedelta(days=1)
    )
    order = buy(esim_plan, promotion_code=" Welcome10 ")
    assert (order.discount, order.total) == (Decimal("56.30"), Decimal("506.70"))
    body = shopper.get(reverse("orders:pay", args=[order.number])).content.decode()
    assert "WELCOME10" in body and "PKR 506.70" in body


@pytest.mark.parametrize("currency", ["EUR", ""])
def test_currency_the_plan_is_not_priced_in_is_refused(shopper, esim_plan, currency):
    esim_plan.prices.filter(currency="USD").delete()
    for choice in (currency, "USD"):
        response = shopper.post(
            reverse("orders:buy", args=[esim_plan.pk]), {"currency": choice, **PHONE_CONFIRMED}
        )
        assert response.status_code == 200 and response.context["form"].errors["currency"]
    assert not Order.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, esim_plan, customer):
    response = client.post(reverse("orders:buy", args=[esim_plan.pk]), {"currency": "PKR"})
    detail = reverse("plans:detail", args=[esim_plan.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={detail}"
    assert not Order.objects.exists()
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    pay_url = reverse("orders:pay", args=[order.number])
    response = client.get(pay_url)
    assert response["Location"] == f"{reverse('account_login')}?next={pay_url}"


def test_only_active_esim_plans_can_be_bought(shopper, catalog):
    renewal = Plan.objects.filter(kind=PlanKind.RENEWAL).first()
    response = shopper.post(reverse("orders:buy", args=[renewal.pk]), {"currency": "PKR"})
    assert response.status_code == 404
    assert shopper.get(reverse("orders:buy", args=[renewal.pk])).status_code == 405


def test_failed_payment_offers_to_try_again(shopper, buy, esim_plan, pay_by_card):
    order = buy(esim_plan)
    pay_by_card(order, action="fail")
    assert order.status == Order.Status.PAYMENT_FAILED
    body = shopper.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "The payment did not go through." in body and "Try again" in body
    assert f'href="{reverse("orders:pay", args=[order.number])}"' in body
    assert "data-poll-url" not in body
    pay_by_card(order)
    assert order.status == Order.Status.FULFILLED


def test_paid_order_pay_page_goes_back_to_the_order(ready_order, shopper):
    response = shopper.get(reverse("orders:pay", args=[ready_order.number]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:detail", args=[ready_order.number])
    assert "This order is already paid or closed." in response.content.decode()
    response = shopper.post(reverse("orders:pay", args=[ready_order.number]), {"method": "x"})
    assert response.status_code == 302 and ready_order.payments.count() == 1


def test_renewal_orders_are_paid_on_the_same_page(shopper, ready_order, pay_by_card, customer):
    sim = ready_order.issued_sims.get()
    plan = Plan.objects.get(provider_sku="jazz-renewal-month-30gb")
    order = place_renewal(plan=plan, customer=customer, sim=sim, currency="USD")
    assert (order.cost, order.cost_currency) == (plan.cost, plan.cost_currency)
    body = shopper.get(reverse("orders:pay", args=[order.number])).content.decode()
    assert "Renewal" in body and f"…{sim.iccid[-6:]}" in body and "USD 5.99" in body
    pay_by_card(order)
    assert order.status == Order.Status.FULFILLED
    body = shopper.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "Your SIM has been renewed" in body


def test_a_number_is_shown_one_way_on_the_site_and_in_the_email(shopper, customer, pay_by_card):
    plan = Plan.objects.get(provider_sku="zong-recharge-300")
    order = place_recharge(plan=plan, customer=customer, msisdn="+92 312 765 4321", currency="PKR")
    pay_by_card(order)
    pages = [
        reverse("orders:list"),
        reverse("orders:detail", args=[order.number]),
        reverse("orders:receipt", args=[order.number]),
    ]
    [email] = mail.outbox
    shown = [shopper.get(url).content.decode() for url in pages]
    shown += [email.body, email.alternatives[0][0]]
    for text in shown:
        assert "0312 7654321" in text and "+92312" not in text and "0312 765 4321" not in text


def test_recharge_orders_show_the_number_large(shopper, customer, pay_by_card):
    plan = Plan.objects.get(provider_sku="zong-recharge-300")
    order = place_recharge(plan=plan, customer=customer, msisdn="0312 7654321", currency="PKR")
    body = shopper.get(reverse("orders:pay", args=[order.number])).content.decode()
    assert '<dd class="big-number">0312 7654321</dd>' in body
    assert "wrong number" in body
    pay_by_card(order)
    body = shopper.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert order.status == Order.Status.FULFILLED and "0312 7654321 has been recharged." in body
