"""The help centre in a real browser, on a phone in Chinese: ask whether the phone is compatible,
buy (the eSIM box must be ticked), then from the install page find the no-data article with the
operator's APN, and find it again through the help centre's search."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order, Sim
from tests.browser.conftest import screenshot
from tests.browser.journeys import ORDER_PAGE, buy_chosen_plan, sign_up_and_verify, submit
from tests.worlds import build_world

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("help_content"),
]

APN_ARTICLE = "安装 eSIM 后没有网络怎么办？"


def test_check_the_phone_buy_and_find_the_apn_article(open_page):
    build_world()
    page = open_page(locale="zh-CN")
    sign_up_and_verify(page, "li.na@example.com")

    page.goto("/plans/")
    page.get_by_role("link", name="我的手机支持吗？").first.click()
    page.fill("#device-q", "iPhone 15")
    page.locator("main form[role=search] button").click()
    main = page.locator("main").inner_text()
    assert "Apple iPhone 15 Pro" in main
    assert "在中国大陆、香港、澳门销售的版本没有 eSIM" in main
    screenshot(page, "help-devices-zh")

    page.goto("/plans/")
    page.get_by_role("link", name="选择").first.click()
    submit(page)  # the eSIM box is not ticked
    assert "请确认您的手机支持 eSIM" in page.locator("main").inner_text()
    assert not Order.objects.exists()
    screenshot(page, "plan-esim-confirmation-zh")
    buy_chosen_plan(page)
    page.get_by_label(re.compile("测试")).first.check()
    submit(page)
    page.get_by_role("button", name="支付", exact=True).click()
    page.wait_for_url(ORDER_PAGE)
    page.locator("#order-status .badge.fulfilled").wait_for()
    page.get_by_role("link", name=re.compile("安装")).first.click()
    sim = Sim.objects.get(owner__email="li.na@example.com")

    page.get_by_role("link", name="安装后没有网络时要检查什么").click()
    expect(page.locator("h1")).to_have_text(APN_ARTICLE)
    chosen = page.locator("tr.chosen").inner_text()
    assert sim.operator.name in chosen and sim.operator.apn in chosen
    screenshot(page, "help-article-zh")
    page.get_by_role("button", name="有帮助", exact=True).click()
    expect(page.locator("main")).to_contain_text("感谢您的反馈")

    page.goto("/help/")
    assert "支付失败怎么办？" in page.locator("main").inner_text()
    screenshot(page, "help-index-zh")
    page.fill("#help-q", "APN")
    page.locator("main form[role=search] button").click()
    screenshot(page, "help-search-zh")
    page.get_by_role("link", name=APN_ARTICLE).click()
    expect(page.locator("main")).to_contain_text(sim.operator.apn)
