"""The parts every page shares are kept per process by what they show (portal/templatetags/
fragments.py): the navigation by language, sign-in and unread count; the head, the language picker
and the footer by language and settings."""

import re

import pytest
from django.test import Client

from orders.models import Notification
from portal.templatetags import fragments
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def nav(client, language="en") -> str:
    body = client.get("/", headers={"accept-language": language}).content.decode()
    return body.split('<header class="site-header">')[1].split("<form")[0]


def test_each_visitor_gets_the_navigation_for_what_it_shows(client):
    user = CustomerFactory()
    anonymous = nav(Client())
    client.force_login(user)
    signed_in = nav(client)
    assert "Log in" in anonymous and "My SIMs" not in anonymous
    assert "My SIMs" in signed_in and "Log in" not in signed_in
    assert "Notifications (" not in signed_in
    Notification.objects.create(user=user, kind="expiry_3d", period_key="p", title="t", body="b")
    assert "Notifications (1)" in nav(client)
    assert "我的套餐" in nav(client, "zh-hans")
    assert nav(Client()) == anonymous


def test_a_kept_navigation_is_the_one_rendered_afresh(client):
    client.force_login(CustomerFactory())
    kept = nav(client)
    fragments._fragments.clear()
    assert nav(client) == kept


def page(client, language="en") -> str:
    """The home page, its CSRF token (new each time) left out."""
    body = client.get("/", headers={"accept-language": language}).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_a_kept_page_is_the_one_rendered_afresh(client):
    kept = page(client)
    fragments._fragments.clear()
    assert page(client) == kept


def test_the_language_picker_marks_each_visitor_s_language(client):
    assert '<option value="en" selected>' in page(client)
    chinese = page(Client(), "zh-hans")
    assert '<option value="zh-hans" selected>' in chinese
    assert '<option value="en" selected>' not in chinese
    assert '<button type="submit">切换</button>' in chinese


def test_the_footer_follows_the_support_address(client, settings):
    assert f"Write to {settings.SUPPORT_EMAIL}" in page(client)
    settings.SUPPORT_EMAIL = "help@karachi.example"
    assert "Write to help@karachi.example" in page(client)


def test_the_head_links_follow_the_static_files_url(client, settings):
    assert 'href="/static/portal/site.css' in page(client)
    settings.STATIC_URL = "/assets/"
    assert 'href="/assets/portal/' in page(client)
