"""Paying for an eSIM with JazzCash and Easypaisa in a real browser, each through its built-in
fake: the hosted checkout (hand-off, the wallet's page, back to the order) and the direct charge
(wallet number, "approve on your phone", the phone's approval), each until the eSIM is ready."""

import re

import pytest

from orders.models import Order, Payment, Sim
from tests.browser.conftest import screenshot
from tests.browser.journeys import ORDER_PAGE, buy_chosen_plan, log_in, submit
from tests.worlds import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WALLET_NAMES = {"jazzcash": "JazzCash", "easypaisa": "Easypaisa"}
WALLET_NUMBER = "0345 1234567"


@pytest.fixture
def on_pay_page(open_page, live_server, settings):
    """The world's customer signed in on a phone, on the pay page of a Jazz week's eSIM in
    rupees, with both wallets as their fakes: ``on_pay_page(locale, choose_label)``."""
    settings.LOCAL_WALLETS = {"jazzcash": "fake", "easypaisa": "fake"}
    settings.SITE_URL = live_server.url
    build_world()

    def _open(locale: str = "en-GB", choose: str = "Choose"):
        page = open_page(locale=locale)
        log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
        page.goto("/plans/?operator=jazz&period=weekly")
        page.get_by_role("link", name=choose).first.click()
        page.select_option("#id_currency", "PKR")
        buy_chosen_plan(page)
        return page

    return _open


@pytest.fixture
def shopper_page(on_pay_page):
    """The pay page in English."""
    return on_pay_page()


def wait_until_ready(page) -> None:
    status = page.locator("#order-status")
    status.get_by_text("Your eSIM is ready").wait_for(timeout=30_000)
    order = Order.objects.get(number=re.search(r"/orders/([^/]+)/", page.url).group(1))
    assert order.status == Order.Status.FULFILLED
    payment = order.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED and payment.gateway_status
    assert Sim.objects.filter(issued_by_order=order).count() == 1


@pytest.mark.parametrize("wallet", ["jazzcash", "easypaisa"])
def test_pay_on_the_wallets_checkout_page(shopper_page, wallet):
    page = shopper_page
    page.locator(f'input[value="{wallet}:{wallet}"]').check()
    screenshot(page, f"pay-{wallet}")
    submit(page)
    page.wait_for_url(re.compile(f"/pay/fake/{wallet}/"))  # handed over, signed form posted
    assert WALLET_NAMES[wallet].lower() in page.content().lower()
    screenshot(page, f"{wallet}-checkout")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(ORDER_PAGE, timeout=30_000)
    wait_until_ready(page)
    screenshot(page, f"{wallet}-ready")


@pytest.mark.parametrize("wallet", ["jazzcash", "easypaisa"])
def test_pay_from_the_wallet_number_and_approve_on_the_phone(shopper_page, wallet):
    page = shopper_page
    page.locator(f'input[value="{wallet}:{wallet}_mobile"]').check()
    page.fill("#id_wallet_number", WALLET_NUMBER)
    submit(page)
    page.wait_for_url(ORDER_PAGE)
    status = page.locator("#order-status")
    status.get_by_text("Approve the payment on your phone").wait_for()
    assert WALLET_NUMBER in status.inner_text()
    screenshot(page, f"{wallet}-approve-on-phone")

    phone = page.context.new_page()
    phone.goto(f"/pay/fake/{wallet}/phone/?number={WALLET_NUMBER.replace(' ', '')}")
    screenshot(phone, f"{wallet}-phone")
    phone.get_by_role("button", name="Approve", exact=True).first.click()
    phone.wait_for_load_state()
    wait_until_ready(page)  # the order page follows by itself
    screenshot(page, f"{wallet}-direct-ready")


def test_in_chinese_the_order_page_asks_to_approve_on_the_phone(on_pay_page):
    page = on_pay_page(locale="zh-CN", choose="选择")
    page.get_by_label("JazzCash 手机账户").check()
    page.get_by_label("钱包手机号码").fill(WALLET_NUMBER)
    screenshot(page, "pay-jazzcash-mobile-zh")
    submit(page)
    page.wait_for_url(ORDER_PAGE)
    status = page.locator("#order-status")
    status.get_by_text("请在手机上确认付款").first.wait_for()
    assert WALLET_NUMBER in status.inner_text()
    screenshot(page, "jazzcash-approve-on-phone-zh")
