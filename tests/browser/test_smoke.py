"""The site in a real browser: language negotiation and switching."""

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_home_page_speaks_chinese_to_chinese_browsers_and_can_switch(open_page):
    page = open_page(locale="zh-CN")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "巴基斯坦" in page.locator("h1").inner_text()
    screenshot(page, "home-zh")
    page.select_option("#language-select", "en")
    page.get_by_role("button", name="切换").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Pakistan" in page.locator("h1").inner_text()
