"""繁體中文 on the site: chosen by the browser or the switch, stored as the customer's language,
followed by the pages (plan names included) and the emails, with no Simplified text left."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import User
from plans.models import Plan
from tests.chinese import simplified_left

pytestmark = pytest.mark.django_db


def visible(response) -> str:
    html = response.content.decode()
    return strip_tags(re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))


@pytest.mark.parametrize("accept", ["zh-TW", "zh-HK", "zh-Hant", "zh-Hant-TW,zh;q=0.8"])
def test_the_browser_language_picks_traditional(client, accept):
    response = client.get(reverse("home"), headers={"accept-language": accept})
    assert '<html lang="zh-hant">' in response.content.decode()


@pytest.mark.parametrize("accept", ["zh-CN", "zh", "zh-SG"])
def test_other_chinese_stays_simplified(client, accept):
    response = client.get(reverse("home"), headers={"accept-language": accept})
    assert '<html lang="zh-hans">' in response.content.decode()


def test_the_switch_offers_three_languages_and_sets_traditional(client):
    page = client.get(reverse("home"), headers={"accept-language": "en"}).content.decode()
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', page)
    assert options == [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
    client.post(reverse("set_language"), {"language": "zh-hant", "next": "/"})
    response = client.get(reverse("home"))
    assert '<html lang="zh-hant">' in response.content.decode()
    assert "巴基斯坦手機流量" in visible(response)


@pytest.mark.parametrize("path", ["/", "/plans/", "/plans/?operator=jazz&period=weekly"])
def test_catalogue_pages_show_no_simplified_text(client, catalog, path):
    response = client.get(path, headers={"accept-language": "zh-TW"})
    assert response.status_code == 200
    assert simplified_left(visible(response)) == set()


def test_a_plan_named_in_simplified_is_shown_in_traditional(client, esim_plan):
    Plan.objects.filter(pk=esim_plan.pk).update(name_zh="Jazz 周包 10GB 流量套餐 续费")
    page = visible(
        client.get(reverse("plans:detail", args=[esim_plan.pk]), HTTP_ACCEPT_LANGUAGE="zh-TW")
    )
    assert "Jazz 周包 10GB 流量方案 續費" in page and simplified_left(page) == set()
    simplified = visible(
        client.get(reverse("plans:detail", args=[esim_plan.pk]), HTTP_ACCEPT_LANGUAGE="zh-CN")
    )
    assert "Jazz 周包 10GB 流量套餐 续费" in simplified


def test_signing_up_in_traditional_keeps_it_as_the_customers_language(client):
    client.post(
        "/accounts/signup/",
        {"email": "chen@example.com", "password1": "Qz8!long-pass", "password2": "Qz8!long-pass"},
        headers={"accept-language": "zh-TW"},
    )
    assert User.objects.get(email="chen@example.com").profile.preferred_language == "zh-hant"
    assert simplified_left(mail.outbox[0].subject + mail.outbox[0].body) == set()


def test_the_profile_saves_traditional_and_the_site_follows(shopper):
    response = shopper.post(
        reverse("account_profile"),
        {"phone": "", "preferred_language": "zh-hant", "notify_by_email": "on"},
    )
    assert response.status_code == 302
    assert (
        User.objects.get(pk=shopper.session["_auth_user_id"]).profile.preferred_language
        == "zh-hant"
    )
    page = shopper.get(reverse("account_profile"))
    assert '<html lang="zh-hant">' in page.content.decode()
    assert simplified_left(visible(page)) == set()


def test_the_ready_email_is_in_the_customers_traditional_chinese(
    shopper, customer, buy, pay_by_card, esim_plan
):
    customer.profile.preferred_language = "zh-hant"
    customer.profile.save()
    order = buy(esim_plan)
    pay_by_card(order)
    message = mail.outbox[-1]
    chinese = message.body.split("----------")[0]
    html_chinese = message.alternatives[0].content.split("<hr>")[0]
    assert message.subject.startswith(f"您的訂單 {order.number} 已就緒 / ")
    assert "啟用碼" in chinese and "方案" in chinese
    assert simplified_left(message.subject + chinese + strip_tags(html_chinese)) == set()
    assert "Your order" in message.body.split("----------")[1]
