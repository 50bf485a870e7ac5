"""The purchase journey in 繁體中文 (a Taiwan phone): every page in Traditional Chinese, with no
Simplified character and no English word left (names, codes and the brand aside)."""

import re

import pytest

from orders.models import Sim
from tests.browser.conftest import screenshot
from tests.browser.journeys import (
    ORDER_PAGE,
    buy_chosen_plan,
    decode_qr,
    sign_up_and_verify,
    submit,
)
from tests.browser.test_journeys import english_left
from tests.chinese import simplified_left
from tests.worlds import build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def left_over(page) -> dict[str, set[str]]:
    """What is not Traditional Chinese on the page: Simplified characters, English words."""
    found = {
        "simplified": simplified_left(page.locator("body").inner_text()),
        "english": english_left(page),
    }
    return {kind: words for kind, words in found.items() if words}


def test_purchase_in_traditional_chinese_has_no_simplified_or_english_left(open_page, db):
    build_world()
    page = open_page(locale="zh-TW")
    sign_up_and_verify(page, "chen.mei@example.com")
    assert page.locator("html").get_attribute("lang") == "zh-hant"
    pages = {}
    page.goto("/plans/")
    pages["catalog"] = left_over(page)
    screenshot(page, "catalog-zh-hant")
    page.get_by_role("link", name="選擇").first.click()
    pages["plan"] = left_over(page)
    screenshot(page, "plan-zh-hant")
    buy_chosen_plan(page)
    pages["pay"] = left_over(page)
    screenshot(page, "pay-zh-hant")
    page.get_by_label(re.compile("測試")).first.check()
    submit(page)
    pages["test-checkout"] = left_over(page)
    page.get_by_role("button", name="支付", exact=True).click()
    page.wait_for_url(ORDER_PAGE)
    page.locator("#order-status .badge.fulfilled").wait_for()
    pages["order"] = left_over(page)
    screenshot(page, "order-ready-zh-hant")
    page.get_by_role("link", name=re.compile("安裝")).first.click()
    pages["install"] = left_over(page)
    screenshot(page, "install-zh-hant")
    sim = Sim.objects.get(owner__email="chen.mei@example.com")
    assert decode_qr(page, "main svg") == sim.activation_code
    page.goto("/sims/")
    pages["my-sims"] = left_over(page)
    screenshot(page, "my-sims-zh-hant")
    assert {name: found for name, found in pages.items() if found} == {}
