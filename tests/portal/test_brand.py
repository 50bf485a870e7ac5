"""One brand name, from settings.PORTAL_BRAND, on the site, in the admin and in every email."""

from email.utils import parseaddr

import pytest
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db

CHINESE = {"accept-language": "zh-hans"}
ENGLISH = {"accept-language": "en"}


@pytest.mark.parametrize(
    ("headers", "brand"), [(CHINESE, "巴基斯坦 eSIM"), (ENGLISH, "Pakistan eSIM")]
)
def test_the_site_header_and_title_show_the_brand(client, headers, brand):
    page = client.get("/plans/", headers=headers).text
    assert f'<a class="brand" href="/">{brand}</a>' in page
    assert f" · {brand}</title>" in page


def test_the_brand_comes_from_settings(client, settings):
    settings.PORTAL_BRAND = {"en": "Karachi Connect", "zh-hans": "卡拉奇通"}
    assert '<a class="brand" href="/">卡拉奇通</a>' in client.get("/", headers=CHINESE).text
    assert client.get("/site.webmanifest", headers=ENGLISH).json()["name"] == "Karachi Connect"


@pytest.mark.parametrize(
    ("headers", "title", "index"),
    [
        (CHINESE, "巴基斯坦 eSIM 管理后台", "店铺管理"),
        (ENGLISH, "Pakistan eSIM admin", "Shop administration"),
    ],
)
def test_the_admin_header_and_title_show_the_brand(
    client, signed_in_superuser, headers, title, index
):
    page = client.get("/admin/", headers=headers).text
    assert f"<title>{index} | {title}</title>" in page
    assert f'<a href="/admin/">{title}</a>' in page
    assert "Django" not in page


@pytest.mark.parametrize(
    ("headers", "brand", "greeting"),
    [
        (CHINESE, "巴基斯坦 eSIM", "您好，这里是巴基斯坦 eSIM！"),
        (ENGLISH, "Pakistan eSIM", "Hello from Pakistan eSIM!"),
    ],
)
def test_the_verification_email_greets_with_the_brand(client, headers, brand, greeting):
    client.post(
        "/accounts/signup/",
        {"email": "li.wei@example.com", "password1": "Qz8!long-pass", "password2": "Qz8!long-pass"},
        headers=headers,
    )
    assert User.objects.filter(email="li.wei@example.com").exists()
    [message] = mail.outbox
    assert message.subject.startswith(f"[{brand}] ")
    assert message.body.startswith(greeting)
    assert parseaddr(message.from_email) == (brand, "support@paksim.example")
    assert "127.0.0.1" not in message.body.splitlines()[0]
    assert "Hello!" not in message.body
