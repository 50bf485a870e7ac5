"""The help centre's pages: articles by group, search in the visitor's language, one article
with its APN table and "did this help?", and query budgets."""

import pytest
from django.urls import reverse

from help.models import Article
from tests.factories import ArticleFactory, OperatorFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("help:index")


def chinese(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def test_the_first_articles_are_published_in_both_languages(client):
    slugs = set(Article.objects.published().values_list("slug", flat=True))
    assert {
        "forgot-password",
        "payment-failed",
        "no-confirmation-email",
        "old-sim-after-replacement",
        "sim-by-post",
        "no-data-after-installing",
    } <= slugs
    body = chinese(client).get(INDEX).content.decode()
    for title in ("忘记密码怎么办？", "支付失败怎么办？", "没有收到确认邮件怎么办？"):
        assert title in body
    assert "新卡激活后旧卡还能用吗？" in body and "能否邮寄" in body


def test_index_groups_published_articles_in_the_groups_order(client):
    Article.objects.all().delete()
    ArticleFactory(group="account", title_en="Reset it")
    ArticleFactory(group="buying", title_en="Before you buy")
    ArticleFactory(group="buying", title_en="Draft", is_published=False)
    body = client.get(INDEX).content.decode()
    assert body.index("Buying") < body.index("Before you buy") < body.index("Account")
    assert "Reset it" in body and "Draft" not in body


def test_search_looks_in_the_visitors_language(client):
    chinese(client)
    body = client.get(INDEX, {"q": "APN"}).content.decode()
    assert "安装 eSIM 后没有网络怎么办？" in body
    body = client.get(INDEX, {"q": "支付 失败"}).content.decode()
    assert "支付失败怎么办？" in body and "忘记密码" not in body
    client.cookies["django_language"] = "en"
    body = client.get(INDEX, {"q": "no data"}).content.decode()
    assert "No data after installing the eSIM" in body
    assert "I forgot my password" not in body


def test_search_leaves_out_unpublished_articles_and_says_when_nothing_matches(client):
    ArticleFactory(title_en="Secret draft zebra", is_published=False)
    body = client.get(INDEX, {"q": "zebra"}).content.decode()
    assert "Secret draft" not in body
    assert "No article matches your search." in body


def test_an_unpublished_article_is_a_404_except_for_staff(client, admin_user):
    ArticleFactory(slug="draft", is_published=False)
    url = reverse("help:article", args=["draft"])
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    assert "Not published" in client.get(url).content.decode()


def test_the_no_data_article_shows_each_operators_apn_and_marks_the_visitors(client):
    OperatorFactory(code="jazz", name="Jazz", apn="jazzconnect.mobilinkworld.com")
    OperatorFactory(code="zong", name="Zong", apn="zonginternet")
    OperatorFactory(code="noapn", name="Quiet", apn="")
    url = reverse("help:article", args=["no-data-after-installing"])
    body = client.get(url, {"operator": "zong"}).content.decode()
    assert "jazzconnect.mobilinkworld.com" in body and "zonginternet" in body
    assert "Quiet" not in body
    assert "<strong>Zong</strong> (your SIM)" in body


def test_did_this_help_counts_once_per_visit(client):
    article = Article.objects.get(slug="payment-failed")
    url = reverse("help:feedback", args=[article.slug])
    client.post(url, {"helpful": "yes"})
    client.post(url, {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 0)
    body = client.get(reverse("help:article", args=[article.slug])).content.decode()
    assert "Thank you for your answer." in body and 'name="helpful"' not in body


def test_a_bad_answer_is_refused_and_counts_nothing(client):
    url = reverse("help:feedback", args=["payment-failed"])
    response = client.post(url, {"helpful": "maybe"}, follow=True)
    assert "Please answer yes or no." in response.content.decode()
    article = Article.objects.get(slug="payment-failed")
    assert (article.helpful_count, article.not_helpful_count) == (0, 0)
    assert client.get(url).status_code == 405


def test_still_need_help_links_to_support(client, settings):
    body = client.get(reverse("help:article", args=["payment-failed"])).content.decode()
    assert "Still need help?" in body
    assert f'href="mailto:{settings.SUPPORT_EMAIL}?subject=' in body


def test_index_search_and_article_keep_their_query_budget(client, django_assert_max_num_queries):
    ArticleFactory.create_batch(30, body_en="payment words")
    OperatorFactory.create_batch(5, apn="internet")
    with django_assert_max_num_queries(1):
        assert client.get(INDEX).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(INDEX, {"q": "payment"}).status_code == 200
    url = reverse("help:article", args=["no-data-after-installing"])
    with django_assert_max_num_queries(2):
        assert client.get(url).status_code == 200
