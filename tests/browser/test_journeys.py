"""Journeys 2-4 and 6 in a real browser (tasks run in-process): renew a SIM, recharge a number
after correcting its operator, log in with two-factor, and the purchase in the Chinese UI."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order, Sim
from plans.models import Plan, PlanKind
from plans.providers import get_adapter
from tests.browser.conftest import screenshot
from tests.browser.journeys import (
    ORDER_PAGE,
    buy_chosen_plan,
    decode_qr,
    log_in,
    sign_up_and_verify,
    submit,
)
from tests.clock import site_date
from tests.staff import totp_code
from tests.worlds import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Words that stay as they are in the Chinese UI: names, codes and technical terms.
UNTRANSLATED = {
    "matching",  # "Matching ID", as phones label it for manual entry
    "esim",
    "sim",
    "jazz",
    "zong",
    "telenor",
    "ufone",
    "pakistan",
    "iccid",
    "lpa",
    "smdp",
    "sm",
    "dp",
    "apn",
    "gb",
    "mb",
    "qr",
    "ios",
    "iphone",
    "android",
    "pkr",
    "cny",
    "usd",
    "pk",
    "wi",
    "fi",
    "jazzcash",
    "easypaisa",
    "samsung",
    "id",
    "tid",
    "sandbox",
    "paksim",
    "example",
    "support",
    "mobilinkworld",
    "jazzconnect",
    "com",
    "internet",
    "zonginternet",
    "card",
}


def english_left(page) -> set[str]:
    """English words on the page other than names, codes and technical terms."""
    text = page.locator("body").inner_text()
    text = re.sub(r"\S+@\S+|https?://\S+|LPA:\S+|PK-[A-Z0-9]+|[A-Z0-9]{12,}", " ", text)
    words = {w.lower() for w in re.findall(r"[A-Za-z]{2,}", text)}
    return words - UNTRANSLATED


@pytest.fixture
def world_customer(db):
    """The customer of ``tests.worlds`` (address verified), over its catalog."""
    return build_world().customer


def issued_sim(customer) -> Sim:
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="zong").first()
    profile = get_adapter(plan.provider).issue_esim(
        reference="earlier-order", plan_sku=plan.provider_sku
    )
    return Sim.objects.create(
        iccid=profile.iccid,
        msisdn=profile.msisdn,
        operator=plan.operator,
        owner=customer,
        provider=plan.provider,
        activation_code=profile.activation_code,
        current_plan=plan,
        data_total_mb=plan.data_mb,
        data_remaining_mb=1024,
        expires_at=timezone.now() + timezone.timedelta(days=2),
        status=Sim.Status.ACTIVE,
    )


def pay_on_test_gateway(page) -> None:
    page.get_by_label(re.compile(r"\(test gateway")).first.check()
    submit(page)
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(ORDER_PAGE)


def test_renew_a_sim_before_it_runs_out(open_page, world_customer):
    sim = issued_sim(world_customer)
    before = sim.expires_at
    page = open_page()
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    page.goto("/sims/")
    screenshot(page, "my-sims")
    assert "2 days left" in page.locator("main").inner_text()
    page.get_by_role("link", name="Renew").first.click()
    screenshot(page, "renew")
    page.get_by_role("button", name=re.compile("^Renew for")).first.click()
    pay_on_test_gateway(page)
    page.locator("#order-status").get_by_text("Your SIM has been renewed").wait_for()
    sim.refresh_from_db()
    assert sim.expires_at > before
    page.goto("/sims/")
    assert site_date(sim.expires_at) in (page.locator("main").inner_text())


def test_recharge_a_number_after_correcting_its_operator(open_page, world_customer):
    page = open_page()
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    page.goto("/recharge/")
    page.fill("#id_phone", "0345 1234567")  # a Telenor prefix, ported to Jazz
    page.get_by_role("button", name="Find the operator").click()
    expect(page.locator("main")).to_contain_text("Telenor")
    page.select_option("#id_operator", label="Jazz")
    page.get_by_role("button", name="Show amounts for this operator").click()
    page.get_by_label(re.compile("Jazz Rs 500")).check()
    page.get_by_role("button", name="Continue", exact=True).click()
    assert page.locator(".big-number").inner_text().replace(" ", "") == "03451234567"
    screenshot(page, "recharge-confirm")
    page.get_by_role("button", name="Continue to payment").click()
    assert page.locator(".big-number").is_visible()  # the box must be ticked first
    assert not Order.objects.exists()
    page.check("#id_confirmed")
    page.get_by_role("button", name="Continue to payment").click()
    pay_on_test_gateway(page)
    page.locator("#order-status").get_by_text("has been recharged").wait_for()
    order = Order.objects.get(kind="recharge")
    assert (order.recharge_msisdn, order.recharge_operator.code) == ("+923451234567", "jazz")
    assert order.status == Order.Status.FULFILLED and order.upstream_reference


def test_log_in_with_two_factor(open_page, world_customer):
    secret = generate_totp_secret()
    TOTP.activate(world_customer, secret)
    page = open_page()
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    assert "/accounts/2fa/authenticate/" in page.url
    screenshot(page, "two-factor")
    page.fill("#id_code", totp_code(secret))
    submit(page)
    page.goto("/account/")
    assert CUSTOMER_EMAIL in page.locator("main").inner_text()


def test_purchase_in_the_chinese_ui_has_no_english_left(open_page, db):
    build_world()
    page = open_page(locale="zh-CN")
    sign_up_and_verify(page, "wang.fang@example.com")
    pages = {}
    page.goto("/plans/")
    pages["catalog"] = english_left(page)
    page.get_by_role("link", name="选择").first.click()
    pages["plan"] = english_left(page)
    buy_chosen_plan(page)
    pages["pay"] = english_left(page)
    page.get_by_label(re.compile("测试")).first.check()
    submit(page)
    pages["test-checkout"] = english_left(page)
    page.get_by_role("button", name="支付", exact=True).click()
    page.wait_for_url(ORDER_PAGE)
    page.locator("#order-status .badge.fulfilled").wait_for()
    pages["order"] = english_left(page)
    screenshot(page, "order-ready-zh")
    page.get_by_role("link", name=re.compile("安装")).first.click()
    pages["install"] = english_left(page)
    screenshot(page, "install-zh")
    sim = Sim.objects.get(owner__email="wang.fang@example.com")
    assert decode_qr(page, "main svg") == sim.activation_code
    page.goto("/sims/")
    pages["my-sims"] = english_left(page)
    screenshot(page, "my-sims-zh")
    assert {name: words for name, words in pages.items() if words} == {}
