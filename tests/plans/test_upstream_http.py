"""The shared HTTP layer for real upstreams: error mapping, call log, token cache."""

import pytest
import requests
import responses

from plans.models import Provider, ProviderCall
from plans.providers.base import PermanentProviderError, TransientProviderError
from plans.providers.http import (
    BadResponse,
    Unauthorized,
    UpstreamHttp,
    UpstreamTimeout,
    cached_token,
    forget_token,
    json_body,
)

BASE = "https://upstream.example"
pytestmark = pytest.mark.django_db


@pytest.fixture
def http():
    provider = Provider.objects.create(name="Upstream", adapter=Provider.Adapter.AIRALO)
    return UpstreamHttp(provider, BASE + "/")


@responses.activate
def test_a_good_call_is_returned_and_logged_without_its_query(http):
    responses.get(BASE + "/v2/packages", json={"data": []})
    response = http.call("get", "/v2/packages?token=secret", operation="packages", reference="R1")
    assert json_body(response, "packages") == {"data": []}
    call = ProviderCall.objects.get()
    assert (call.method, call.path, call.status_code, call.outcome, call.reference) == (
        "GET",
        "/v2/packages",
        200,
        "ok",
        "R1",
    )
    assert call.latency_ms >= 0 and call.error == ""


@pytest.mark.parametrize(
    ("status", "error_class", "outcome"),
    [
        (401, Unauthorized, "permanent"),
        (422, PermanentProviderError, "permanent"),
        (429, TransientProviderError, "transient"),
        (503, TransientProviderError, "transient"),
    ],
)
@responses.activate
def test_error_statuses_map_onto_the_provider_errors(http, status, error_class, outcome):
    responses.post(
        BASE + "/v2/orders", status=status, json={"message": "nope"}, headers={"Retry-After": "7"}
    )
    with pytest.raises(error_class) as caught:
        http.call("post", "/v2/orders", operation="order", json={})
    assert type(caught.value) is error_class
    assert caught.value.summary == f"order: HTTP {status}: nope"
    assert caught.value.retry_after == (7.0 if status == 429 else None)
    call = ProviderCall.objects.get()
    assert (call.status_code, call.outcome) == (status, outcome)
    assert "nope" in call.error


@responses.activate
def test_a_timeout_is_transient_and_says_the_upstream_may_have_it(http):
    responses.post(BASE + "/v2/orders", body=requests.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout):
        http.call("post", "/v2/orders", operation="order", reference="R2")
    call = ProviderCall.objects.get()
    assert (call.status_code, call.outcome, call.reference) == (None, "transient", "R2")


@responses.activate
def test_a_connection_error_is_transient(http):
    responses.get(BASE + "/v2/packages", body=requests.ConnectionError("refused"))
    with pytest.raises(TransientProviderError) as caught:
        http.call("get", "/v2/packages", operation="packages")
    assert not isinstance(caught.value, UpstreamTimeout)


@responses.activate
def test_a_2xx_that_is_not_json_is_a_bad_response(http):
    responses.get(BASE + "/v2/packages", body="<html>maintenance</html>")
    with pytest.raises(BadResponse):
        json_body(http.call("get", "/v2/packages", operation="packages"), "packages")


def test_tokens_are_cached_until_forgotten(http):
    fetched = []

    def fetch():
        fetched.append(1)
        return f"token-{len(fetched)}", 3600

    assert cached_token(http.provider, fetch) == "token-1"
    assert cached_token(http.provider, fetch) == "token-1"
    forget_token(http.provider)
    assert cached_token(http.provider, fetch) == "token-2"


@responses.activate
def test_a_401_fetches_a_new_token_once_and_sends_the_call_again(http):
    tokens = iter(["stale", "fresh", "third"])

    def fetch():
        return next(tokens), 3600

    refused = responses.get(BASE + "/v2/sims", status=401, json={"message": "Unauthenticated"})
    with pytest.raises(Unauthorized):
        http.call_with_token("get", "/v2/sims", fetch_token=fetch, operation="sims")
    sent = [call.request.headers["Authorization"] for call in responses.calls]
    assert sent == ["Bearer stale", "Bearer fresh"]  # one refresh, then the 401 is raised
    responses.remove(refused)
    responses.get(BASE + "/v2/sims", json={"data": []})
    response = http.call_with_token(
        "get", "/v2/sims", fetch_token=fetch, operation="sims", headers={"Accept": "x"}
    )
    assert response.request.headers["Authorization"] == "Bearer third"
    assert response.request.headers["Accept"] == "x"
