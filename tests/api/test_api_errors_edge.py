"""Odd API paths still answer with the API's JSON error body, never the site's HTML 404."""

import pytest

pytestmark = pytest.mark.django_db

ODD_PATHS = [
    "/api/v1/orders/%0A",
    "/api/v1/plans/x%0Ay/",
    "/api/v1/%0A",
    "/api/v1/nothing-here%0A/",
    "/api/v1/orders/%0D%0A",
    "/api/v1/orders/PK-1%0A/",
    "/api/v1%0A",
    "/api/v2/orders/",
]


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code


def assert_json_not_found(response):
    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ODD_PATHS)
def test_a_path_with_a_newline_gets_the_json_error_body(api_client, path):
    assert_json_not_found(api_client.get(path))


@pytest.mark.parametrize("path", [p for p in ODD_PATHS if p != "/api/v1/orders/PK-1%0A/"])
def test_without_a_key_too(client, path):
    assert_json_not_found(client.get(path))


def test_a_real_route_with_a_newline_asks_for_the_key_first(client):
    assert_json_error(client.get("/api/v1/orders/PK-1%0A/"), 401, "not_authenticated")


def test_the_site_keeps_its_html_404(client):
    response = client.get("/no-such-page%0A/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
