"""Content negotiation answers as DRF's does and remembers its choice (core/api/negotiation)."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation

from core.api.negotiation import RememberedNegotiation

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/plans/"


@pytest.fixture
def negotiations(monkeypatch) -> list:
    """DRF's own negotiations from now on (the remembered choices forgotten first)."""
    made = []
    original = DefaultContentNegotiation.select_renderer

    def counting(self, request, renderers, format_suffix=None):
        made.append(request.META.get("HTTP_ACCEPT"))
        return original(self, request, renderers, format_suffix)

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", counting)
    monkeypatch.setattr(RememberedNegotiation, "_choices", type(RememberedNegotiation._choices)())
    return made


def test_a_choice_made_once_is_remembered(api_client, negotiations):
    for _ in range(3):
        response = api_client.get(PLANS, HTTP_ACCEPT="application/json")
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert api_client.get(PLANS, HTTP_ACCEPT="*/*").status_code == 200
    assert negotiations == ["application/json", "*/*"]


def test_what_no_renderer_answers_is_refused_every_time(api_client, negotiations):
    assert api_client.get(PLANS, HTTP_ACCEPT="text/html").status_code == 406
    first = len(negotiations)
    assert api_client.get(PLANS, HTTP_ACCEPT="text/html").status_code == 406
    assert first and len(negotiations) == 2 * first and set(negotiations) == {"text/html"}


@pytest.mark.parametrize(
    ("query", "status"),
    [("format=json", 200), ("format=xml", 404), ("form%61t=xml", 404), ("page_size=5", 200)],
)
def test_the_format_override_is_read_from_the_query(api_client, negotiations, query, status):
    assert api_client.get(f"{PLANS}?{query}").status_code == status
    assert api_client.get(f"{PLANS}?{query}").status_code == status


def test_a_long_header_is_negotiated_each_time(api_client, negotiations):
    accept = "application/json, " + ", ".join(f"x/y{n}" for n in range(60))
    for _ in range(2):
        assert api_client.get(PLANS, HTTP_ACCEPT=accept).status_code == 200
    assert len(negotiations) == 2
