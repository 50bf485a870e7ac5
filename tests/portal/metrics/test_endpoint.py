"""/metrics: who may scrape it, from where, and the request timings it reports."""

import pytest
from django.urls import resolve

from portal.metrics import http

pytestmark = pytest.mark.django_db

POD_ADDRESS = {"HTTP_HOST": "10.1.2.3:8000", "REMOTE_ADDR": "10.1.0.7"}  # plain HTTP, by IP


def test_the_path_resolves_to_the_endpoint():
    assert resolve("/metrics").func is http.metrics


def test_without_a_token_production_has_no_endpoint(client, settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_without_a_token_embedded_mode_answers_this_machine_only(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.20").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic bWV0cmljczp4", "Bearer", "metrics-token-for-tests"],
)
def test_a_missing_or_wrong_token_is_refused(client, metrics_token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


def test_the_token_is_accepted_from_a_pod_address_without_host_check_or_https(
    client, settings, metrics_token
):
    settings.ALLOWED_HOSTS = ["portal.example"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}", **POD_ADDRESS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    assert b"portal_orders{" in response.content


def test_other_paths_keep_the_host_check(client, settings):
    settings.ALLOWED_HOSTS = ["portal.example"]
    assert client.get("/plans/", **POD_ADDRESS).status_code == 400


def count(read, **labels) -> float:
    return read("portal_http_request_duration_seconds_count", **labels) or 0


def test_requests_are_timed_by_route_name_not_path(client, scrape):
    before = scrape()
    client.get("/webhooks/stripe/")
    client.get("/webhooks/other-source/")
    client.get("/no-such-page/at-all/")
    after = scrape()

    webhooks = {"method": "GET", "route": "payment_webhook", "status": "4xx"}
    assert count(after, **webhooks) - count(before, **webhooks) == 2
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    assert count(after, **unmatched) - count(before, **unmatched) == 1
    assert after("portal_http_request_duration_seconds_bucket", le="+Inf", **webhooks) == count(
        after, **webhooks
    )


def test_an_unnamed_route_is_labelled_by_its_pattern(rf):
    request = rf.get("/admin/login/")
    request.resolver_match = resolve("/admin/login/")
    assert http.route_of(request) == "admin/login/"
