"""The help centre where customers need it: the buy page's eSIM confirmation, the install page's
steps for the visitor's phone and its no-data link, the failed payment's link."""

import pytest
from django.urls import reverse

from help.models import Article
from help.platforms import ANDROID, IOS, platform_of
from orders.models import Order
from tests.site.conftest import PHONE_CONFIRMED

pytest_plugins = ["tests.site.conftest_sims"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("help_content")]

IPHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
ANDROID_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile"


def test_platform_comes_from_the_user_agent():
    assert platform_of(IPHONE_UA) == IOS
    assert platform_of(ANDROID_UA) == ANDROID
    assert platform_of("Mozilla/5.0 (X11; Linux x86_64)") == ""
    assert platform_of("") == ""


def test_buying_an_esim_without_confirming_the_phone_is_refused(shopper, esim_plan):
    url = reverse("orders:buy", args=[esim_plan.pk])
    response = shopper.post(url, {"currency": "PKR"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Please confirm that your phone supports eSIM." in body
    assert f'href="{reverse("help:devices")}"' in body
    assert not Order.objects.exists()
    response = shopper.post(url, {"currency": "PKR", **PHONE_CONFIRMED})
    assert response.status_code == 302 and Order.objects.count() == 1


def test_the_refusal_is_in_chinese_for_chinese_customers(shopper, esim_plan):
    shopper.cookies["django_language"] = "zh-hans"
    response = shopper.post(reverse("orders:buy", args=[esim_plan.pk]), {"currency": "PKR"})
    assert "请确认您的手机支持 eSIM。" in response.content.decode()


def test_install_page_shows_the_visitors_platform_first(sims_client, sims_make):
    sim = sims_make()
    url = reverse("sims:install", args=[sim.iccid])
    android = sims_client.get(url, HTTP_USER_AGENT=ANDROID_UA).content.decode()
    assert android.index('id="android-heading"') < android.index('id="iphone-heading"')
    assert android.index(">Install on Android<") < android.index(">Install on iPhone<")
    iphone = sims_client.get(url, HTTP_USER_AGENT=IPHONE_UA).content.decode()
    assert iphone.index('id="iphone-heading"') < iphone.index('id="android-heading"')
    assert 'href="#android-heading"' in iphone  # the other phone's steps stay one tap away


def test_install_page_links_to_the_no_data_article_with_the_operator(sims_client, sims_make):
    sim = sims_make()
    url = reverse("sims:install", args=[sim.iccid])
    article = reverse("help:article", args=["no-data-after-installing"])
    body = sims_client.get(url).content.decode()
    assert f'href="{article}?operator=jazz"' in body
    page = sims_client.get(f"{article}?operator=jazz").content.decode()
    assert "<strong>Jazz</strong>" in page and "jazzconnect.mobilinkworld.com" in page
    Article.objects.filter(slug="no-data-after-installing").update(is_published=False)
    assert article not in sims_client.get(url).content.decode()


def test_a_failed_payment_links_to_the_payment_failed_article(shopper, buy, esim_plan, pay_by_card):
    order = buy(esim_plan)
    pay_by_card(order, action="fail")
    body = shopper.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert f'href="{reverse("help:article", args=["payment-failed"])}"' in body
    pending = buy(esim_plan)
    body = shopper.get(reverse("orders:detail", args=[pending.number])).content.decode()
    assert "payment-failed" not in body
