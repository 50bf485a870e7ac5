"""Journey 1 in a real browser with a real worker, in English and in Chinese: sign up, buy, pay,
watch the order go from "confirming payment" to "being set up" to ready by itself, install."""

import re
import signal

import pytest

from accounts.models import User
from orders.models import Sim
from plans.models import Provider
from tests.browser.conftest import screenshot
from tests.browser.journeys import (
    ORDER_PAGE,
    buy_chosen_plan,
    decode_qr,
    sign_up_and_verify,
    submit,
)
from tests.processes import kill_group, start_worker
from tests.worlds import build_world

PROVIDER_SECONDS = 8  # long enough for the page's polling to show "being set up"

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


ENGLISH = {
    "locale": "en-GB",
    "choose": "Choose",
    "card": "Card (test gateway, no real money)",
    "pay": "Pay",
    "confirming": "We are confirming your payment",
    "setting_up": "Your order is being set up",
    "ready": "Your eSIM is ready",
    "install": "Install eSIM",
}
CHINESE = {
    "locale": "zh-CN",
    "choose": "选择",
    "card": re.compile("测试"),
    "pay": "支付",
    "confirming": "我们正在向支付机构确认您的付款",
    "setting_up": "您的订单正在开通",
    "ready": "您的 eSIM 已就绪",
    "install": re.compile("安装"),
}


@pytest.mark.parametrize("words", [ENGLISH, CHINESE], ids=["en", "zh"])
def test_sign_up_buy_pay_and_install(open_page, real_broker, tmp_path, words):
    suffix = "" if words is ENGLISH else "-zh-worker"
    build_world()
    Provider.objects.update(settings={"latency_seconds": PROVIDER_SECONDS})
    real_broker.control.purge()
    worker = None
    try:
        page = open_page(locale=words["locale"])
        sign_up_and_verify(page, "traveller@example.com")
        assert User.objects.get(email="traveller@example.com").is_active

        page.goto("/plans/?operator=jazz&period=weekly")
        screenshot(page, f"catalog{suffix}")
        page.get_by_role("link", name=words["choose"]).first.click()
        page.select_option("#id_currency", "CNY")
        screenshot(page, f"plan{suffix}")
        buy_chosen_plan(page)
        page.get_by_label(words["card"]).first.check()
        screenshot(page, f"pay{suffix}")
        submit(page)
        page.get_by_role("button", name=words["pay"], exact=True).click()
        page.wait_for_url(ORDER_PAGE)
        order_url = page.url
        status = page.locator("#order-status")
        status.get_by_text(words["confirming"]).wait_for()  # no worker yet
        screenshot(page, f"order-confirming{suffix}")
        worker = start_worker(tmp_path)
        status.get_by_text(words["setting_up"]).wait_for(timeout=60_000)
        screenshot(page, f"order-in-progress{suffix}")

        status.get_by_text(words["ready"]).wait_for(timeout=60_000)
        assert page.url == order_url  # it turned ready without a reload
        screenshot(page, f"order-ready{suffix}")
        page.get_by_role("link", name=words["install"]).first.click()
        sim = Sim.objects.get(owner__email="traveller@example.com")
        assert sim.iccid[-6:] in page.content()
        assert decode_qr(page, "main svg") == sim.activation_code
        screenshot(page, f"install{suffix}")
    finally:
        if worker is not None:
            kill_group(worker, signal.SIGTERM)
