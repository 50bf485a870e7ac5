import pytest
from django.urls import reverse

from tests.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def test_home_page_lists_operators_and_says_payments_are_simulated(
    client, django_assert_max_num_queries
):
    OperatorFactory(code="jazz", name="Jazz")
    OperatorFactory(code="ufone", name="Ufone", supports_esim=False)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Jazz" in body and "Ufone" in body
    assert "Test mode" in body


def test_home_page_follows_the_browser_language(client):
    response = client.get(reverse("home"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-hans">' in response.content.decode()
    response = client.get(reverse("home"), headers={"accept-language": "fr"})
    assert '<html lang="en">' in response.content.decode()


def test_health_endpoint(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_admin_requires_staff_login(client):
    response = client.get("/admin/orders/order/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
