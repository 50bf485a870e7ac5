"""Is my phone compatible? The public checker over the staff-kept list of eSIM phones."""

import pytest
from django.urls import reverse

from help.models import Device
from help.search import find_devices, words_of
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

CHECKER = reverse("help:devices")


def test_words_split_chinese_letters_and_digits():
    assert words_of("iPhone15 Pro") == ["iPhone", "15", "Pro"]
    assert words_of("苹果15") == ["苹果", "15"]
    assert words_of("   ") == []


def test_typing_iphone_15_shows_its_models_with_the_regional_warning(client):
    body = client.get(CHECKER, {"q": "iPhone 15"}).content.decode()
    for model in ("iPhone 15", "iPhone 15 Plus", "iPhone 15 Pro", "iPhone 15 Pro Max"):
        assert f"Apple {model}</h2>" in body
    assert "iPhone 14" not in body
    assert "Versions sold in mainland China, Hong Kong, Macao have no eSIM" in body


def test_the_checker_speaks_chinese_and_knows_chinese_brand_names(client):
    client.cookies["django_language"] = "zh-hans"
    body = client.get(CHECKER, {"q": "苹果 15 pro max"}).content.decode()
    assert "Apple iPhone 15 Pro Max" in body
    assert "在中国大陆、香港、澳门销售的版本没有 eSIM" in body
    body = client.get(CHECKER, {"q": "pixel 8"}).content.decode()
    assert "Google Pixel 8" in body and "支持 eSIM" in body


def test_an_unknown_phone_gets_advice_not_an_error(client):
    body = client.get(CHECKER, {"q": "Nokia 3310"}).content.decode()
    assert "This phone is not on our list." in body
    assert "*#06#" in body


def test_a_long_query_is_cut_not_refused(client):
    assert client.get(CHECKER, {"q": "x" * 5000}).status_code == 200
    assert list(find_devices("")) == []


def test_the_checker_keeps_its_query_budget(client, django_assert_max_num_queries):
    DeviceFactory.create_batch(40, brand="Budget", lacks_esim_in=["CN"])
    with django_assert_max_num_queries(1):
        body = client.get(CHECKER, {"q": "budget model"}).content.decode()
    assert body.count("Budget Model") == 40 and Device.objects.count() > 40


def test_the_catalog_and_the_plan_page_link_to_the_checker(client, esim_plan):
    assert f'href="{CHECKER}"' in client.get(reverse("plans:list")).content.decode()
    page = client.get(reverse("plans:detail", args=[esim_plan.pk])).content.decode()
    assert f'href="{CHECKER}"' in page
