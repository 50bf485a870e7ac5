"""Support in a real browser, on a phone in Chinese: the customer asks about an order from its
page with a screenshot, staff answer in the admin after signing in with two-factor, and the
customer reads the answer, closes the conversation and rates it."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from accounts.models import User
from orders.models import Order
from plans.models import Plan, PlanKind
from support.models import Conversation
from tests.browser.conftest import screenshot
from tests.browser.journeys import log_in, submit
from tests.factories import OrderFactory
from tests.staff import totp_code, with_totp
from tests.worlds import (
    CUSTOMER_EMAIL,
    CUSTOMER_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    build_world,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def png() -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (390, 844), (30, 120, 200)).save(buffer, "PNG")
    return {"name": "screen.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def test_ask_about_an_order_staff_answer_and_the_customer_rates(open_page, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    world = build_world()
    with_totp(world.staff)
    customer = User.objects.get(email=CUSTOMER_EMAIL)
    plan = Plan.objects.filter(kind=PlanKind.ESIM).first()
    order = OrderFactory(customer=customer, plan=plan, status=Order.Status.PAYMENT_FAILED)

    page = open_page(locale="zh-CN")
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    page.goto(f"/orders/{order.number}/")
    page.get_by_role("link", name="就此订单咨询客服").click()
    expect(page.locator("main")).to_contain_text(f"关于订单 {order.number}")
    assert page.locator("#id_category").input_value() == "payment"
    page.fill("#id_body", "付款失败了两次，请帮我看看。")
    page.set_input_files("#id_screenshots", png())
    screenshot(page, "support-open")
    submit(page)
    assert "留言已发送" in page.locator("main").inner_text()
    screenshot(page, "support-thread")
    conversation = Conversation.objects.get()
    assert conversation.order == order and conversation.messages.get().attachments.count() == 1

    staff = open_page(locale="zh-CN")
    staff.goto("/admin/support/conversation/")
    staff.fill("#id_login", STAFF_EMAIL)
    staff.fill("#id_password", STAFF_PASSWORD)
    submit(staff)
    staff.fill("#id_code", totp_code())
    submit(staff)
    staff.wait_for_url("**/admin/support/conversation/")
    assert "客服会话" in staff.locator("body").inner_text()
    screenshot(staff, "support-admin-queue")
    staff.locator("#result_list tbody a").first.click()
    staff.get_by_role("button", name="分配给我").click()
    staff.fill("#reply-body", "您好，我们已为您查看：请换一张银行卡或使用支付宝再试一次。")
    screenshot(staff, "support-admin-thread")
    staff.get_by_role("button", name="发送", exact=True).click()
    expect(staff.locator("body")).to_contain_text("回复已发送给客户")

    page.goto("/support/")
    assert "新回复" in page.locator("main").inner_text()
    screenshot(page, "support-list")
    page.get_by_role("link", name=conversation.subject).click()
    expect(page.locator("main")).to_contain_text("请换一张银行卡")
    page.get_by_role("button", name="问题已解决，关闭会话").click()
    page.get_by_label("★★★★★", exact=True).check()
    page.fill("#id_comment", "回复很快")
    page.get_by_role("button", name="提交评分").click()
    expect(page.locator("main")).to_contain_text("感谢您的评价")
    screenshot(page, "support-rated")
    conversation.refresh_from_db()
    assert conversation.status == "closed" and conversation.rating == 5
    assert conversation.assigned_to == world.staff
