"""Steps shared by the browser journeys."""

import io
import re

from django.core import mail

# An order's page, with or without the mark of a return from the payment gateway.
ORDER_PAGE = re.compile(r"/orders/PK-[^/]+/(\?.*)?$")

PASSWORD = "Qz8!long-pass"


def submit(page) -> None:
    """Click the main form's submit button (not the header's language switcher)."""
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def buy_chosen_plan(page) -> None:
    """On a plan's page: confirm the phone supports eSIM and go on to payment."""
    page.check("#id_esim_compatible")
    submit(page)


def sign_up_and_verify(page, email: str) -> None:
    """Sign up, read the verification email from the test mailbox and confirm it."""
    page.goto("/accounts/signup/")
    page.fill("#id_email", email)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    submit(page)
    body = next(m.body for m in reversed(mail.outbox) if email in m.to)
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", body).group(1)
    page.goto(link)
    submit(page)


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    submit(page)


def decode_qr(page, selector: str) -> str:
    """Screenshot the element and decode the QR code in it."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(page.locator(selector).screenshot()))
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found"
    return found[0].text
