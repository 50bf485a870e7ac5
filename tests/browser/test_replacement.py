"""Journey 5 in a real browser: a customer asks for a replacement eSIM, a reviewer approves it in
the admin, and the customer finds the new install page with the old SIM marked replaced."""

import io

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from PIL import Image
from playwright.sync_api import expect

from accounts.models import User
from accounts.roles import IDENTITY_REVIEWERS
from orders.models import Sim
from tests.browser.conftest import screenshot
from tests.browser.journeys import decode_qr, log_in, submit
from tests.browser.test_journeys import issued_sim
from tests.staff import totp_code, with_totp
from tests.worlds import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REVIEWER_PASSWORD = "Reviewer-pass-2026"


def jpeg(colour) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), colour).save(buffer, "JPEG")
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_request_review_and_install_the_replacement(open_page, files_on_disk):
    build_world()
    customer = User.objects.get(email=CUSTOMER_EMAIL)
    old = issued_sim(customer)
    reviewer = User.objects.create_user(
        email="reviewer@paksim.example", password=REVIEWER_PASSWORD, is_staff=True
    )
    reviewer.groups.add(Group.objects.get(name=IDENTITY_REVIEWERS))
    EmailAddress.objects.create(user=reviewer, email=reviewer.email, verified=True, primary=True)
    with_totp(reviewer)

    page = open_page()
    log_in(page, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    page.goto("/sims/")
    page.get_by_role("link", name="Replacement").first.click()
    page.select_option("#id_reason", "lost")
    page.fill("#id_full_name", "Li Wei")
    page.get_by_label("Passport").check()
    page.fill("#id_document_number", "EA1234567")
    page.set_input_files("#id_front", jpeg((220, 200, 170)))
    page.set_input_files("#id_back", jpeg((200, 220, 170)))
    page.set_input_files("#id_selfie", jpeg((170, 200, 220)))
    screenshot(page, "replacement-request")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("main")).to_contain_text("24 to 48 hours")

    staff = open_page()
    staff.goto("/admin/accounts/identitycheck/")  # staff sign in on the site, with two-factor
    staff.fill("#id_login", reviewer.email)
    staff.fill("#id_password", REVIEWER_PASSWORD)
    submit(staff)
    staff.fill("#id_code", totp_code())
    submit(staff)
    staff.wait_for_url("**/admin/accounts/identitycheck/")
    staff.locator("#result_list tbody a").first.click()
    expect(staff.locator("figure img")).to_have_count(3)  # waits for the change page to load
    # Wait until every document image has loaded and decoded (a broken one fails). Not
    # wait_for_function: its polling evaluates a string, which the admin's CSP refuses.
    staff.locator("figure img").evaluate_all("images => Promise.all(images.map(i => i.decode()))")
    screenshot(staff, "replacement-review")
    staff.get_by_role("button", name="Approve and issue the new eSIM").click()
    expect(staff.locator("body")).to_contain_text("Approved.")

    page.reload()
    page.get_by_role("link", name="Install the new eSIM").click()
    old.refresh_from_db()
    new = old.replaced_by
    assert old.status == Sim.Status.REPLACED and new is not None
    assert decode_qr(page, "main svg") == new.activation_code
    screenshot(page, "replacement-install")
    page.goto("/sims/")
    assert "Replaced" in page.locator("main").inner_text()
