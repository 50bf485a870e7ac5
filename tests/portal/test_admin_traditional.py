"""Staff who chose 繁體中文 read the admin in it: no Simplified character on its pages."""

import re

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from tests.chinese import simplified_left
from tests.factories import OrderFactory, PartnerFactory, ProvisioningAttemptFactory, SimFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_in_traditional_show_no_simplified(client, signed_in_administrator, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hant"
    order = OrderFactory()
    ProvisioningAttemptFactory(order=order, number=1)
    sim = SimFactory(msisdn="+923001234567")
    partner = PartnerFactory()
    urls = [
        reverse("admin:index"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:orders_sim_change", args=[sim.pk]),
        reverse("admin:accounts_partner_change", args=[partner.pk]),
        reverse("admin:plans_plan_changelist"),
    ]
    left = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
        left[url] = simplified_left(strip_tags(html))
    assert {url: chars for url, chars in left.items() if chars} == {}
    assert "訂單編號" in client.get(urls[2]).content.decode()
