"""The header's navigation is kept per process by what it shows: language, sign-in, unread count."""

import pytest
from django.test import Client

from orders.models import Notification
from portal.templatetags import site_nav
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
    site_nav._navs.clear()
    assert nav(client) == kept
