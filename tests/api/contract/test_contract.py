"""The contract every partner endpoint keeps, generated from the URLconf.

Each route under /api/v1/ that takes an API key is probed for: 401 with the JSON error body
without a key and with a wrong one; 405 with it for a method it does not answer; for lists, the
pagination envelope, ``page_size`` and a query count that does not grow with the rows; for routes
that address an object, 404 for another partner's and 200 for one's own. A new route needs an
entry in MAKERS (how to make rows of a partner's that it shows), or
``test_every_route_has_a_maker`` fails.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api.contract import makers
from tests.api.contract.routes import partner_routes

MAKERS = {
    "api-plan-list": makers.plans,
    "api-plan-detail": makers.plans,
    "api-order-list": makers.orders,
    "api-order-detail": makers.orders,
    "api-recharge-create": makers.nothing,
    "api-sim-list": makers.sims,
    "api-sim-detail": makers.sims,
    "api-sim-renewal-plans": makers.renewal_plans,
    "api-sim-renewal-create": makers.sims,
    "api-wallet": makers.nothing,
    "api-wallet-statement": makers.wallet_entries,
    "api-wallet-statement-csv": makers.wallet_entries,
    "api-sim-replacements": makers.sims,
    "api-replacements": makers.replacements,
    "api-replacement": makers.replacements,
    "api-webhook-endpoint-list": makers.webhook_endpoints,
    "api-webhook-endpoint-detail": makers.webhook_endpoints,
    "api-webhook-endpoint-deliveries": makers.endpoint_deliveries,
    "api-webhook-delivery-list": makers.webhook_deliveries,
    "api-webhook-delivery-detail": makers.webhook_deliveries,
    "api-webhook-redeliver": makers.webhook_deliveries,
    "api-order-webhook-secret": makers.order_webhook_secret,
    "api-support-conversation-list": makers.conversations,
    "api-support-conversation-detail": makers.conversations,
    "api-support-conversation-replies": makers.conversations,
}
ROUTES = partner_routes()
LISTS = [route for route in ROUTES if route.is_list]
ADDRESSED = [route for route in ROUTES if route.kwargs and route.is_scoped]
READABLE = [route for route in ROUTES if "get" in route.methods]
MANY = 20

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


def call(client, route, kwargs=None, method=None, **params):
    method = method or route.method
    url = route.url(kwargs)
    if method == "get":
        return client.get(url, params)
    return getattr(client, method)(url, {}, format=route.format)


def make(route, partner, count=1) -> dict:
    return MAKERS[route.name](partner, count)


def test_every_route_has_a_maker():
    names = [route.name for route in ROUTES]
    assert None not in names, "every API route needs a name"
    assert set(names) - MAKERS.keys() == set(), "add a maker for the new route to MAKERS"
    assert MAKERS.keys() - set(names) == set(), "MAKERS names a route that is gone"


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "not_authenticated"), ("nope.wrong", "authentication_failed")],
    ids=["no key", "wrong key"],
)
def test_no_key_or_a_wrong_key_is_401(route, token, code):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = call(client, route)
    assert_error(response, 401, code)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_unknown_method_is_405(route, api):
    assert_error(call(api, route, method=route.unknown_method), 405, "method_not_allowed")


@pytest.mark.parametrize("route", LISTS, ids=str)
def test_lists_are_pages_of_page_size(route, api, me):
    kwargs = make(route, me, 3)
    envelope = set(route.view.pagination_class().get_paginated_response_schema({})["properties"])
    first = call(api, route, kwargs, page_size=2)
    assert first.status_code == 200, first.content
    assert set(first.json()) == envelope
    assert len(first.json()["results"]) == 2
    assert first.json()["next"]
    rest = api.get(first.json()["next"])
    assert len(rest.json()["results"]) == 1
    assert rest.json()["next"] is None


@pytest.mark.parametrize("route", [route for route in LISTS if route.is_scoped], ids=str)
def test_lists_hold_only_your_rows(route, api, me, them):
    make(route, them, 2)
    kwargs = make(route, me, 1)
    response = call(api, route, kwargs)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 1


@pytest.mark.parametrize("route", LISTS, ids=str)
def test_lists_take_as_many_queries_for_many_rows_as_for_one(route, api, me):
    kwargs = make(route, me, 1)
    call(api, route, kwargs)  # the key's first use in a minute records it: not counted
    with CaptureQueriesContext(connection) as one:
        response = call(api, route, kwargs, page_size=MANY)
    assert len(response.json()["results"]) == 1
    # A nested list's maker makes a new parent: give it all the rows.
    kwargs = make(route, me, MANY if route.kwargs else MANY - 1)
    with CaptureQueriesContext(connection) as many:
        response = call(api, route, kwargs, page_size=MANY)
    assert len(response.json()["results"]) == MANY
    assert len(many) == len(one), [query["sql"] for query in many.captured_queries]


@pytest.mark.parametrize("route", ADDRESSED, ids=str)
def test_another_partners_object_is_404(route, api, them):
    assert_error(call(api, route, make(route, them)), 404, "not_found")


@pytest.mark.parametrize("route", READABLE, ids=str)
def test_your_own_object_is_200(route, api, me):
    response = call(api, route, make(route, me))
    assert response.status_code == 200, response.content
