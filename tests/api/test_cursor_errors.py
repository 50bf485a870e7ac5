"""A cursor made up by hand (its position not a value of the list's order) is an invalid cursor:
404 with the reason, never a server error."""

import base64

import pytest

pytestmark = pytest.mark.django_db

NEWEST_FIRST = ["/api/v1/orders/", "/api/v1/sims/", "/api/v1/wallet/statement/"]
NOT_TIMES = ["notadate", "2026-13-45T00:00:00Z", "9" * 40, "1e999"]
LISTS = [
    *[(url, NOT_TIMES) for url in NEWEST_FIRST],
    ("/api/v1/replacements/", NOT_TIMES),
    ("/api/v1/plans/", ["abc", "1e999", "2026-01-01T00:00:00Z"]),  # catalog order: a number
]


def cursor(position: str) -> str:
    return base64.b64encode(f"o=0&p={position}".encode()).decode()


@pytest.mark.parametrize(("url", "positions"), LISTS)
def test_a_made_up_cursor_position_is_an_invalid_cursor(api_client, url, positions):
    assert api_client.get(url).status_code == 200
    for position in positions:
        response = api_client.get(url, {"cursor": cursor(position)})
        assert response.status_code == 404, (position, response.content)
        assert "Invalid cursor" in response.content.decode()


def test_a_real_cursor_still_pages(api_client, api_partner, make_sims):
    make_sims(3)
    first = api_client.get("/api/v1/sims/", {"page_size": 2}).json()
    assert first["next"]
    assert api_client.get(first["next"]).status_code == 200
