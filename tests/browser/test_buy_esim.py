"""Journey 1 in a real browser with a real worker: sign up, buy, pay, watch the order go from
"confirming payment" to "being set up" to ready by itself, install."""

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


def test_sign_up_buy_pay_and_install(open_page, real_broker, tmp_path):
    build_world()
    Provider.objects.update(settings={"latency_seconds": PROVIDER_SECONDS})
    real_broker.control.purge()
    worker = None
    try:
        page = open_page()
        sign_up_and_verify(page, "traveller@example.com")
        assert User.objects.get(email="traveller@example.com").is_active

        page.goto("/plans/?operator=jazz&period=weekly")
        screenshot(page, "catalog")
        page.get_by_role("link", name="Choose").first.click()
        page.select_option("#id_currency", "CNY")
        screenshot(page, "plan")
        buy_chosen_plan(page)
        page.get_by_label("Card (test gateway, no real money)").check()
        screenshot(page, "pay")
        submit(page)
        page.get_by_role("button", name="Pay", exact=True).click()
        page.wait_for_url(ORDER_PAGE)
        order_url = page.url
        status = page.locator("#order-status")
        status.get_by_text("We are confirming your payment").wait_for()  # no worker yet
        screenshot(page, "order-confirming")
        worker = start_worker(tmp_path)
        status.get_by_text("Your order is being set up").wait_for(timeout=60_000)
        screenshot(page, "order-in-progress")

        status.get_by_text("Your eSIM is ready").wait_for(timeout=60_000)
        assert page.url == order_url  # it turned ready without a reload
        screenshot(page, "order-ready")
        page.get_by_role("link", name="Install eSIM").first.click()
        sim = Sim.objects.get(owner__email="traveller@example.com")
        assert sim.iccid[-6:] in page.content()
        assert decode_qr(page, "main svg") == sim.activation_code
        screenshot(page, "install")
    finally:
        if worker is not None:
            kill_group(worker, signal.SIGTERM)
