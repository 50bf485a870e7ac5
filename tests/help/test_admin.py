"""Staff write articles and keep the phone list in the admin; answers to "did this help?" show
there and cannot be edited."""

import pytest
from django.urls import reverse

from core.models import AuditEntry
from help.models import Article, Device
from tests.factories import ArticleFactory, DeviceFactory

pytestmark = pytest.mark.django_db


def test_staff_add_an_article_and_it_is_audited(client, signed_in_superuser):
    response = client.post(
        reverse("admin:help_article_add"),
        {
            "slug": "renew-early",
            "group": "renewing",
            "ordering": "1",
            "is_published": "on",
            "title_zh": "提前续费",
            "body_zh": "可以。",
            "title_en": "Renew early",
            "body_en": "You can.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get(slug="renew-early")
    assert article.is_published and article.group == "renewing"
    assert AuditEntry.objects.filter(action="admin.article.added").exists()
    assert (
        "Renew early" in client.get(reverse("help:article", args=["renew-early"])).content.decode()
    )


def test_the_counts_show_in_the_list_and_are_read_only(client, signed_in_superuser):
    article = ArticleFactory(helpful_count=7, not_helpful_count=2)
    body = client.get(reverse("admin:help_article_changelist")).content.decode()
    assert "field-helpful_count" in body and ">7<" in body
    page = client.get(reverse("admin:help_article_change", args=[article.pk])).content.decode()
    assert 'name="helpful_count"' not in page and 'name="not_helpful_count"' not in page


def test_staff_mark_the_regions_where_a_phone_lacks_esim(client, signed_in_superuser):
    response = client.post(
        reverse("admin:help_device_add"),
        {"brand": "Vivo", "model": "X100 Pro", "lacks_esim_in": ["CN", "HK"], "aliases": "维沃"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    device = Device.objects.get(brand="Vivo")
    assert device.lacks_esim_in == ["CN", "HK"]
    body = client.get(reverse("help:devices"), {"q": "维沃"}).content.decode()
    assert "Vivo X100 Pro" in body and "mainland China, Hong Kong" in body


def test_an_unknown_region_is_refused(client, signed_in_superuser):
    response = client.post(
        reverse("admin:help_device_add"), {"brand": "Vivo", "model": "X1", "lacks_esim_in": ["TW"]}
    )
    assert response.status_code == 200 and not Device.objects.filter(brand="Vivo").exists()


def test_the_lists_keep_their_query_budget(
    client, signed_in_superuser, django_assert_max_num_queries
):
    ArticleFactory.create_batch(30)
    DeviceFactory.create_batch(30, lacks_esim_in=["CN"])
    for name in ("article", "device"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(f"admin:help_{name}_changelist")).status_code == 200
