"""The admin and the API docs render in Chromium under their Content-Security-Policy: nothing
they need is refused (no CSP violation reported)."""

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import screenshot
from tests.staff import login_staff
from tests.worlds import STAFF_EMAIL, build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Playwright's init scripts are not subject to the page's CSP: this one records every violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


@pytest.fixture
def staff_page(open_page, live_server, django_user_model):
    """A page signed in as the staff member (``tests.worlds``), recording CSP violations."""
    build_world()
    client = Client()
    login_staff(client, django_user_model.objects.get(email=STAFF_EMAIL))
    page = open_page()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.console_messages = console
    return page


def assert_no_violation(page):
    violations = page.evaluate("window.__cspViolations")
    refused = [m for m in page.console_messages if "Content Security Policy" in m]
    assert violations == [] and refused == [], (violations, refused)


def test_admin_index_renders_its_dashboard_under_the_policy(staff_page):
    response = staff_page.goto("/admin/")
    assert "object-src 'none'" in response.header_value("Content-Security-Policy")
    assert staff_page.locator("svg.dash-chart").count() > 0
    staff_page.wait_for_load_state("networkidle")
    screenshot(staff_page, "admin-index-csp")
    assert_no_violation(staff_page)


def test_api_docs_render_under_the_policy(staff_page):
    response = staff_page.goto("/api/v1/docs/")
    assert "script-src 'self'" in response.header_value("Content-Security-Policy")
    staff_page.locator(".swagger-ui .info .title").wait_for()
    staff_page.locator(".opblock").first.wait_for()
    staff_page.wait_for_load_state("networkidle")
    screenshot(staff_page, "api-docs-csp")
    assert_no_violation(staff_page)


def test_the_export_page_select_all_box_still_works(staff_page):
    staff_page.goto("/admin/plans/plan/export/")
    staff_page.wait_for_load_state("networkidle")
    fields = staff_page.locator("input[type=checkbox][name^='plan']")  # one box per column
    assert fields.count() > 1 and fields.first.is_checked()
    staff_page.locator("input.select-toggle").uncheck()
    assert not fields.first.is_checked()
    assert_no_violation(staff_page)
