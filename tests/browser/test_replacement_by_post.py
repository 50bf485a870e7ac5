"""A physical SIM replaced by post, in a real browser in Chinese: support staff ship the new card
in the admin, the customer follows it on the site (tracking link, each step's time) and confirms
that it works, which retires the old card."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.models import User
from accounts.roles import IDENTITY_REVIEWERS, SUPPORT
from orders.models import ReplacementTicket, Sim
from orders.services.replacement import approve_replacement
from tests.browser.conftest import screenshot
from tests.browser.journeys import log_in, submit
from tests.browser.test_journeys import issued_sim
from tests.fixtures.posting import request_card_replacement
from tests.staff import totp_code, with_totp
from tests.worlds import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
STAFF_PASSWORD = "Support-pass-2026"


def staff_member(email: str, role: str) -> User:
    user = User.objects.create_user(email=email, password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def issued_card(customer: User) -> ReplacementTicket:
    """The customer's physical SIM with its replacement approved and the new card issued."""
    card = issued_sim(customer)
    Sim.objects.filter(pk=card.pk).update(form=Sim.Form.PHYSICAL, activation_code="")
    card.refresh_from_db()
    ticket = request_card_replacement(card, customer)
    reviewer = staff_member("reviewer@paksim.example", IDENTITY_REVIEWERS)
    approve_replacement(ticket=ticket, reviewer=reviewer)
    ticket.refresh_from_db()
    assert ticket.status == ReplacementTicket.Status.ISSUED
    return ticket


def test_ship_follow_and_confirm_a_new_sim_card(open_page, files_on_disk):
    build_world()
    customer = User.objects.get(email=CUSTOMER_EMAIL)
    ticket = issued_card(customer)
    old = ticket.sim
    with_totp(staff_member("support@paksim.example", SUPPORT))

    staff = open_page(locale="zh-CN")
    staff.goto(f"/admin/orders/replacementticket/{ticket.pk}/ship/")  # sign in with two-factor
    staff.fill("#id_login", "support@paksim.example")
    staff.fill("#id_password", STAFF_PASSWORD)
    submit(staff)
    staff.fill("#id_code", totp_code())
    submit(staff)
    staff.wait_for_url(f"**/admin/orders/replacementticket/{ticket.pk}/ship/")
    staff.select_option("#id_courier", "tcs")
    staff.fill("#id_tracking_number", "7701 2345 6789")
    screenshot(staff, "replacement-ship-admin-zh")
    staff.get_by_role("button", name="寄出").click()
    staff.wait_for_url(f"**/admin/orders/replacementticket/{ticket.pk}/change/")
    screenshot(staff, "replacement-shipped-admin-zh")

    page = open_page(locale="zh-CN")
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    page.goto(f"/sims/{old.iccid}/replace/")
    main = page.locator("main")
    assert "已寄出" in main.inner_text()
    assert main.locator('a[href*="tcsexpress.com"]').count() >= 1
    old.refresh_from_db()
    assert old.status == Sim.Status.ACTIVE  # the old card works until the new one does
    screenshot(page, "replacement-shipped-zh")
    page.get_by_role("button", name="新 SIM 卡可以正常使用").click()
    expect(page.locator("main")).to_contain_text("已送达并激活")
    screenshot(page, "replacement-activated-zh")
    old.refresh_from_db()
    assert old.status == Sim.Status.REPLACED
