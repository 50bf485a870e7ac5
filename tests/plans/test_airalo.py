"""The Airalo Partner API adapter against recorded-shape answers (tests/plans/fixtures/airalo)."""

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from responses import matchers

from orders.models import Order, Sim, WebhookEvent
from orders.services import provisioning
from orders.services.placing import place_purchase
from plans.models import Plan, PlanKind, Provider, ProviderCall
from plans.providers import Capability, NotOffered, get_adapter
from plans.providers.airalo import AiraloAdapter
from plans.providers.airalo import parsing as airalo_parsing
from plans.providers.base import (
    CallbackError,
    PermanentProviderError,
    TransientProviderError,
    Usage,
)
from plans.providers.http import Unauthorized, UpstreamTimeout
from plans.providers.registry import adapter_class
from tests.worlds import build_catalog, build_customer

pytestmark = pytest.mark.django_db

BASE = "https://airalo.test"
FIXTURES = Path(__file__).parent / "fixtures" / "airalo"
SECRET = "client-secret-xyz"
CREDENTIALS = {"client_id": "client-id-abc", "client_secret": SECRET, "base_url": BASE + "/"}
REF = "ord-PK-7F3K9Q2M"
SKU = "jazz-mobile-7days-1gb"
ICCID = "891000000000009128"
TOPUP_SKU = "jazz-mobile-30days-3gb-topup"
RENEW_REF = "ord-PK-RENEW001"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
OPERATOR_MAP = {"Jazz Mobile": "jazz", "Zong 4G": "zong"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes().strip()


@pytest.fixture(autouse=True)
def _credentials(settings):
    settings.PROVIDER_CREDENTIALS = {"airalo": dict(CREDENTIALS)}


@pytest.fixture
def provider():
    return Provider.objects.create(
        name="Airalo", adapter=Provider.Adapter.AIRALO, settings={"operator_map": OPERATOR_MAP}
    )


@pytest.fixture
def adapter(provider):
    return AiraloAdapter(provider)


@pytest.fixture
def api():
    with responses.RequestsMock() as mocked:
        mocked.post(BASE + "/v2/token", json=fixture("token"))
        yield mocked


def calls_to(api, path: str, method: str = "") -> list:
    return [
        call
        for call in api.calls
        if call.request.path_url.split("?")[0] == path
        and (not method or call.request.method == method)
    ]


def form(call) -> dict:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


# --- registry, credentials, token ------------------------------------------------------------


def test_the_registry_serves_the_airalo_adapter(provider):
    assert adapter_class("airalo") is AiraloAdapter
    assert AiraloAdapter.required_credentials == ("client_id", "client_secret")


def test_the_token_is_fetched_once_with_client_credentials_and_sent_as_bearer(adapter, api):
    api.get(BASE + "/v2/sims/" + ICCID + "/usage", json=fixture("usage"))

    adapter.read_usage(iccid=ICCID)
    adapter.read_usage(iccid=ICCID)

    [token_call] = calls_to(api, "/v2/token")
    assert form(token_call) == {
        "client_id": "client-id-abc",
        "client_secret": SECRET,
        "grant_type": "client_credentials",
    }
    usage_calls = calls_to(api, f"/v2/sims/{ICCID}/usage")
    assert len(usage_calls) == 2
    for call in usage_calls:
        assert call.request.headers["Authorization"] == "Bearer test-access-token-1"
        assert call.request.headers["Accept"] == "application/json"
    logged = ProviderCall.objects.get(operation="token")
    assert SECRET not in logged.path + logged.error


def test_a_401_refreshes_the_token_once_and_repeats_the_call(adapter, api):
    api.post(BASE + "/v2/token", json={"data": {"access_token": "fresh", "expires_in": 86400}})
    url = BASE + f"/v2/sims/{ICCID}/usage"
    api.get(url, status=401, json={"data": [], "meta": {"message": "Unauthenticated."}})
    api.get(url, json=fixture("usage"))

    assert adapter.read_usage(iccid=ICCID).data_remaining_mb == 767

    tokens = [c.request.headers["Authorization"] for c in calls_to(api, url[len(BASE) :])]
    assert tokens == ["Bearer test-access-token-1", "Bearer fresh"]
    assert len(calls_to(api, "/v2/token")) == 2


def test_a_second_401_is_not_retried_again(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/usage", status=401, json={"meta": {"message": "no"}})
    with pytest.raises(Unauthorized):
        adapter.read_usage(iccid=ICCID)
    assert len(calls_to(api, f"/v2/sims/{ICCID}/usage")) == 2
    assert len(calls_to(api, "/v2/token")) == 2


def test_refused_credentials_are_permanent_and_asked_once(provider):
    with responses.RequestsMock() as api:
        api.post(BASE + "/v2/token", status=401, json={"meta": {"message": "Bad credentials"}})
        with pytest.raises(PermanentProviderError, match="credentials refused") as caught:
            AiraloAdapter(provider).read_usage(iccid=ICCID)
        assert not isinstance(caught.value, Unauthorized)
        assert len(api.calls) == 1


def test_a_token_answer_without_a_token_is_a_bad_response(provider):
    with responses.RequestsMock() as api:
        api.post(BASE + "/v2/token", json={"data": {"token_type": "Bearer"}})
        with pytest.raises(TransientProviderError, match="no access_token"):
            AiraloAdapter(provider).read_usage(iccid=ICCID)


# --- eSIM orders -----------------------------------------------------------------------------


def test_a_new_reference_orders_once_with_the_reference_as_description(adapter, api):
    api.post(BASE + "/v2/orders", json=fixture("order"))

    profile = adapter.issue_esim(reference=REF, plan_sku=SKU)

    assert profile.iccid == ICCID
    assert profile.activation_code == "LPA:1$lpa.airalo.com$TEST-MATCH-01"
    assert profile.upstream_reference == "9666"
    assert profile.confirmation_code == "" and profile.msisdn == ""
    assert profile.data_total_mb == 1024 and profile.expires_at is None
    [order_call] = calls_to(api, "/v2/orders", "POST")
    assert form(order_call) == {
        "quantity": "1",
        "package_id": SKU,
        "type": "sim",
        "description": REF,
    }
    assert not calls_to(api, "/v2/orders", "GET")  # a first attempt needs no lookup
    logged = ProviderCall.objects.get(operation="order")
    assert (logged.reference, logged.status_code, logged.outcome) == (REF, 200, "ok")


def test_a_retry_after_a_timeout_finds_the_order_instead_of_buying_again(adapter, api):
    api.post(BASE + "/v2/orders", body=requests.ReadTimeout("slow"))
    lookup = api.get(
        BASE + "/v2/orders",
        json=fixture("orders_list"),
        match=[
            matchers.query_param_matcher(
                {"filter[description]": REF, "include": "sims,status", "limit": "100", "page": "1"}
            )
        ],
    )
    with time_machine.travel(START, tick=False), pytest.raises(UpstreamTimeout):
        adapter.issue_esim(reference=REF, plan_sku=SKU)

    with time_machine.travel(START + timedelta(seconds=45), tick=False):
        profile = adapter.issue_esim(reference=REF, plan_sku=SKU)

    # The exact description wins over "…-2" (a substring match) and the failed order.
    assert profile.iccid == ICCID and profile.upstream_reference == "9666"
    assert lookup.call_count == 1
    assert len(calls_to(api, "/v2/orders", "POST")) == 1


def test_nothing_found_just_after_a_timeout_waits_before_ordering_again(adapter, api):
    api.post(BASE + "/v2/orders", body=requests.ReadTimeout("slow"))
    api.get(BASE + "/v2/orders", json={"data": [], "links": {"next": None}, "meta": {}})
    with time_machine.travel(START, tick=False), pytest.raises(UpstreamTimeout):
        adapter.issue_esim(reference=REF, plan_sku=SKU)

    with (
        time_machine.travel(START + timedelta(seconds=20), tick=False),
        pytest.raises(TransientProviderError, match="no Airalo order") as caught,
    ):
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert caught.value.retry_after == pytest.approx(40)
    assert len(calls_to(api, "/v2/orders", "POST")) == 1

    api.replace(responses.POST, BASE + "/v2/orders", json=fixture("order"))
    with time_machine.travel(START + timedelta(seconds=61), tick=False):
        assert adapter.issue_esim(reference=REF, plan_sku=SKU).iccid == ICCID
    assert len(calls_to(api, "/v2/orders", "POST")) == 2


def test_a_gateway_timeout_counts_as_no_answer_too(adapter, api):
    api.post(BASE + "/v2/orders", status=504, body="<html>Gateway Time-out</html>")
    api.get(BASE + "/v2/orders", json={"data": [], "links": {"next": None}, "meta": {}})
    with time_machine.travel(START, tick=False), pytest.raises(TransientProviderError):
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    with (
        time_machine.travel(START + timedelta(seconds=15), tick=False),
        pytest.raises(TransientProviderError, match="no Airalo order"),
    ):
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert len(calls_to(api, "/v2/orders", "POST")) == 1


def test_duplicate_orders_for_one_reference_are_reported(adapter, api, caplog):
    listed = fixture("orders_list")
    duplicate = copy.deepcopy(listed["data"][2])
    duplicate.update(id=9800, code="20250301-009800", created_at="2025-03-01 09:05:00")
    listed["data"].append(duplicate)
    adapter._mark_sent(REF, "order")
    api.get(BASE + "/v2/orders", json=listed)
    assert adapter.issue_esim(reference=REF, plan_sku=SKU).upstream_reference == "9666"
    assert "2 orders carry the reference ord-PK-7F3K9Q2M (9666, 9800)" in caplog.text


def test_after_a_refused_order_a_retry_looks_up_then_orders_without_waiting(adapter, api):
    api.post(BASE + "/v2/orders", status=422, json={"code": 13, "reason": "maintenance"})
    api.get(BASE + "/v2/orders", json={"data": [], "links": {"next": None}, "meta": {}})
    with pytest.raises(PermanentProviderError):
        adapter.issue_esim(reference=REF, plan_sku=SKU)

    api.replace(responses.POST, BASE + "/v2/orders", json=fixture("order"))
    assert adapter.issue_esim(reference=REF, plan_sku=SKU).iccid == ICCID
    assert len(calls_to(api, "/v2/orders", "GET")) == 1


def test_an_order_sent_by_a_worker_that_died_mid_call_is_still_looked_up(adapter, api):
    """The cache marker is set before sending, so no call-log row is needed to look up."""
    adapter._mark_sent(REF, "order")
    api.get(BASE + "/v2/orders", json=fixture("orders_list"))

    assert adapter.issue_esim(reference=REF, plan_sku=SKU).iccid == ICCID
    assert not calls_to(api, "/v2/orders", "POST")


def test_a_lookup_too_long_to_read_whole_is_not_taken_for_not_found(adapter, api, monkeypatch):
    monkeypatch.setattr("plans.providers.airalo.adapter.MAX_LOOKUP_PAGES", 2)
    adapter._mark_sent(REF, "order")
    listed = fixture("orders_list")
    listed["data"] = listed["data"][:1]  # only the "-2" unit: no exact match on any page
    listed["links"]["next"] = BASE + "/v2/orders?page=next"
    api.get(BASE + "/v2/orders", json=listed)
    with pytest.raises(TransientProviderError, match="more than 2 pages"):
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert len(calls_to(api, "/v2/orders", "GET")) == 2
    assert not calls_to(api, "/v2/orders", "POST")


def test_a_found_order_for_another_package_is_refused(adapter, api):
    adapter._mark_sent(REF, "order")
    api.get(BASE + "/v2/orders", json=fixture("orders_list"))
    with pytest.raises(PermanentProviderError, match="another package"):
        adapter.issue_esim(reference=REF, plan_sku="zong-4g-30days-5gb")
    assert not calls_to(api, "/v2/orders", "POST")


def test_a_found_refunded_order_needs_staff(adapter, api):
    listed = fixture("orders_list")
    listed["data"][2]["status"] = {"name": "Refunded", "slug": "refunded"}
    adapter._mark_sent(REF, "order")
    api.get(BASE + "/v2/orders", json=listed)
    with pytest.raises(PermanentProviderError, match="refunded"):
        adapter.issue_esim(reference=REF, plan_sku=SKU)


def test_rate_limits_reach_the_caller_with_retry_after(adapter, api):
    api.post(BASE + "/v2/orders", status=429, headers={"Retry-After": "30"}, json={})
    with pytest.raises(TransientProviderError) as caught:
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert caught.value.retry_after == 30.0

    api.get(BASE + "/v2/orders", status=429, headers={"Retry-After": "12"}, json={})
    with pytest.raises(TransientProviderError) as caught:  # the lookup's own 429 too
        adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert caught.value.retry_after == 12.0
    assert len(calls_to(api, "/v2/orders", "POST")) == 1


def test_an_iccid_failing_its_check_digit_is_a_permanent_error_for_staff(adapter, api):
    answer = fixture("order")
    answer["data"]["sims"][0]["iccid"] = "891000000000009125"  # Airalo's doc example: no Luhn
    api.post(BASE + "/v2/orders", json=answer)
    with pytest.raises(PermanentProviderError, match=r"ICCID check.*staff"):
        adapter.issue_esim(reference=REF, plan_sku=SKU)


def test_an_order_answer_without_an_activation_code_is_a_bad_response(adapter, api):
    answer = fixture("order")
    sim = answer["data"]["sims"][0]
    sim["lpa"] = sim["matching_id"] = sim["qrcode"] = None
    api.post(BASE + "/v2/orders", json=answer)
    with pytest.raises(TransientProviderError, match="no activation code"):
        adapter.issue_esim(reference=REF, plan_sku=SKU)


def test_voice_esims_keep_their_number_and_confirmation_code(adapter, api):
    answer = fixture("order")
    answer["data"]["sims"][0].update(msisdn="923001234567", confirmation_code="5751")
    api.post(BASE + "/v2/orders", json=answer)
    profile = adapter.issue_esim(reference=REF, plan_sku=SKU)
    assert (profile.msisdn, profile.confirmation_code) == ("+923001234567", "5751")


def test_a_paid_order_is_provisioned_through_airalo(
    provider, api, django_capture_on_commit_callbacks
):
    build_catalog()
    plan = Plan.objects.filter(kind=PlanKind.ESIM).order_by("pk").first()
    Plan.objects.filter(pk=plan.pk).update(provider=provider, provider_sku=SKU)
    plan.refresh_from_db()
    order = place_purchase(plan=plan, customer=build_customer(), currency="PKR")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    api.post(BASE + "/v2/orders", json=fixture("order"))

    with django_capture_on_commit_callbacks(execute=False):
        assert provisioning.provision_order(order.pk) == Order.Status.FULFILLED

    sim = Sim.objects.get(iccid=ICCID)
    assert sim.activation_code == "LPA:1$lpa.airalo.com$TEST-MATCH-01"
    assert (sim.smdp_address, sim.matching_id) == ("lpa.airalo.com", "TEST-MATCH-01")
    assert sim.provider_reference == order.provider_reference
    [order_call] = calls_to(api, "/v2/orders", "POST")
    assert form(order_call)["description"] == order.provider_reference
    order.refresh_from_db()
    assert order.upstream_reference == "9666"


# --- top-ups ---------------------------------------------------------------------------------


def test_a_renewal_checks_the_offer_and_orders_the_top_up(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/topups", json=fixture("topups"))
    api.post(BASE + "/v2/orders/topups", json=fixture("topup_order"))

    result = adapter.renew(reference=RENEW_REF, iccid=ICCID, plan_sku=TOPUP_SKU)

    assert result.upstream_reference == "174"
    assert result.data_added_mb == 3072 and result.expires_at is None
    [call] = calls_to(api, "/v2/orders/topups", "POST")
    assert form(call) == {"package_id": TOPUP_SKU, "iccid": ICCID, "description": RENEW_REF}
    assert not calls_to(api, "/v2/orders", "GET")


def test_an_unlimited_top_up_adds_no_data_figure(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/topups", json=fixture("topups"))
    answer = fixture("topup_order")
    answer["data"].update(package_id="jazz-mobile-7days-unlimited-topup", data="Unlimited")
    api.post(BASE + "/v2/orders/topups", json=answer)
    result = adapter.renew(
        reference=RENEW_REF, iccid=ICCID, plan_sku="jazz-mobile-7days-unlimited-topup"
    )
    assert result.data_added_mb is None


def test_a_top_up_the_esim_is_not_offered_is_refused_before_buying(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/topups", json=fixture("topups"))
    with pytest.raises(PermanentProviderError, match="not a top-up Airalo offers"):
        adapter.renew(reference=RENEW_REF, iccid=ICCID, plan_sku="zong-4g-30days-5gb")
    assert not calls_to(api, "/v2/orders/topups")


def test_a_renewal_retried_after_a_timeout_finds_the_top_up(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/topups", json=fixture("topups"))
    api.post(BASE + "/v2/orders/topups", body=requests.ReadTimeout("slow"))
    api.get(
        BASE + "/v2/orders",
        json=fixture("topup_orders_list"),
        match=[
            matchers.query_param_matcher({"filter[description]": RENEW_REF}, strict_match=False)
        ],
    )
    with pytest.raises(UpstreamTimeout):
        adapter.renew(reference=RENEW_REF, iccid=ICCID, plan_sku=TOPUP_SKU)

    result = adapter.renew(reference=RENEW_REF, iccid=ICCID, plan_sku=TOPUP_SKU)

    assert result.upstream_reference == "174" and result.data_added_mb == 3072
    assert len(calls_to(api, "/v2/orders/topups", "POST")) == 1


def test_a_found_top_up_for_another_sim_is_refused(adapter, api):
    adapter._mark_sent(RENEW_REF, "topup")
    api.get(BASE + "/v2/orders", json=fixture("topup_orders_list"))
    with pytest.raises(PermanentProviderError, match="another SIM"):
        adapter.renew(reference=RENEW_REF, iccid="8944465400000267220", plan_sku=TOPUP_SKU)


def test_an_eSIM_order_with_the_same_description_is_not_taken_for_a_top_up(adapter, api):
    adapter._mark_sent(REF, "topup")
    api.get(BASE + "/v2/orders", json=fixture("orders_list"))  # type "sim" only
    api.get(BASE + f"/v2/sims/{ICCID}/topups", json=fixture("topups"))
    api.post(BASE + "/v2/orders/topups", json=fixture("topup_order"))
    assert adapter.renew(reference=REF, iccid=ICCID, plan_sku=TOPUP_SKU).upstream_reference == "174"


def test_an_iccid_that_is_not_digits_never_reaches_a_url(adapter):
    with pytest.raises(PermanentProviderError, match="digits"):
        adapter.read_usage(iccid="8910/../../v2/balance")


# --- usage -----------------------------------------------------------------------------------


EXPIRES = datetime(2025, 3, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Usage(1024, 767, EXPIRES, "active", START)),
        (
            {"status": "NOT_ACTIVE", "remaining": 1024, "expired_at": None},
            Usage(1024, 1024, None, "issued", START),
        ),
        ({"status": "FINISHED", "remaining": 3}, Usage(1024, 0, EXPIRES, "active", START)),
        ({"status": "EXPIRED"}, Usage(1024, 767, EXPIRES, "expired", START)),
        ({"status": "UNKNOWN"}, Usage(1024, 767, EXPIRES, "issued", START)),
        ({"status": "SOMETHING_NEW"}, Usage(1024, 767, EXPIRES, "issued", START)),
        (
            {"is_unlimited": True, "total": 0, "remaining": 0},
            Usage(None, None, EXPIRES, "active", START),
        ),
        (
            {"expired_at": "2025-03-08T14:00:00+05:00", "remaining": 767.9},
            Usage(1024, 767, EXPIRES, "active", START),
        ),
        ({"remaining": 2000}, Usage(1024, 1024, EXPIRES, "active", START)),
    ],
)
def test_usage_readings_map_onto_ours(adapter, api, changes, expected):
    answer = fixture("usage")
    answer["data"].update(changes)
    api.get(BASE + f"/v2/sims/{ICCID}/usage", json=answer)
    with time_machine.travel(START, tick=False):
        assert adapter.read_usage(iccid=ICCID) == expected


def test_an_unreadable_usage_answer_is_a_bad_response(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/usage", json={"data": {"status": "ACTIVE"}})
    with pytest.raises(TransientProviderError, match="not numbers"):
        adapter.read_usage(iccid=ICCID)


def test_an_unknown_iccid_is_permanent(adapter, api):
    api.get(BASE + f"/v2/sims/{ICCID}/usage", status=404, json={"meta": {"message": "Not found"}})
    with pytest.raises(PermanentProviderError, match="404"):
        adapter.read_usage(iccid=ICCID)


# --- what Airalo cannot do -------------------------------------------------------------------


def test_recharge_and_cancel_are_not_offered_and_cancel_says_why(provider):
    assert not {Capability.RECHARGE, Capability.CANCEL} & AiraloAdapter.capabilities
    with pytest.raises(NotOffered, match=r"does not offer cancelling.*refund"):
        get_adapter(provider, needs=Capability.CANCEL)


# --- catalog ---------------------------------------------------------------------------------


def test_the_catalog_follows_pages_and_maps_packages(adapter, api):
    wanted = {"filter[country]": "PK", "filter[type]": "local", "limit": "500", "include": "topup"}
    api.get(
        BASE + "/v2/packages",
        json=fixture("packages_page1"),
        match=[matchers.query_param_matcher({**wanted, "page": "1"})],
    )
    api.get(
        BASE + "/v2/packages",
        json=fixture("packages_page2"),
        match=[matchers.query_param_matcher({**wanted, "page": "2"})],
    )

    items = {item.sku: item for item in adapter.list_catalog()}

    assert sorted(items) == [
        "jazz-mobile-30days-3gb-topup",
        "jazz-mobile-3days-unlimited",
        "jazz-mobile-7days-1gb",
        "kallur-digital-15days-2gb",
        "zong-4g-30days-5gb",
    ]  # the package without a price is left out; the one listed twice counts once
    one_gb = items["jazz-mobile-7days-1gb"]
    assert one_gb.name == "Jazz Mobile 1 GB - 7 Days"
    assert (one_gb.kind, one_gb.operator_code) == (PlanKind.ESIM, "jazz")
    assert (one_gb.cost, one_gb.cost_currency) == (Decimal("3.6"), "USD")
    assert (one_gb.validity_days, one_gb.data_mb, one_gb.data_unlimited) == (7, 1024, False)
    unlimited = items["jazz-mobile-3days-unlimited"]
    assert (unlimited.data_mb, unlimited.data_unlimited, unlimited.validity_days) == (None, True, 3)
    topup = items["jazz-mobile-30days-3gb-topup"]
    assert (topup.kind, topup.data_mb, topup.minutes, topup.sms) == (
        PlanKind.RENEWAL,
        3072,
        100,
        100,
    )
    assert items["kallur-digital-15days-2gb"].operator_code == ""  # not in the operator map
    assert items["kallur-digital-15days-2gb"].cost == Decimal("4.75")  # multi-currency form
    assert items["zong-4g-30days-5gb"].operator_code == "zong"  # title matched ignoring case


def test_catalog_filters_come_from_the_provider_settings(provider, api):
    provider.settings = {"catalog_filters": {"type": "global"}, "catalog_topups": False}
    provider.save()
    api.get(
        BASE + "/v2/packages",
        json={"data": [], "links": {"next": None}, "meta": {}},
        match=[
            matchers.query_param_matcher({"filter[type]": "global", "limit": "500", "page": "1"})
        ],
    )
    assert AiraloAdapter(provider).list_catalog() == []


def test_a_catalog_that_never_ends_is_refused(adapter, api, monkeypatch):
    monkeypatch.setattr("plans.providers.airalo.adapter.MAX_PAGES", 3)
    api.get(BASE + "/v2/packages", json=fixture("packages_page1"))
    with pytest.raises(TransientProviderError, match="more than 3 pages"):
        adapter.list_catalog()


@given(st.integers(min_value=1, max_value=999), st.sampled_from(["MB", "GB", "mb", "Gb"]))
def test_data_labels_read_as_megabytes(number, unit):
    factor = 1024 if unit.upper() == "GB" else 1
    assert airalo_parsing.megabytes_from_label(f"{number} {unit}") == number * factor


def test_odd_data_labels_read_as_nothing():
    assert airalo_parsing.megabytes_from_label("1.5 GB") == 1536
    for label in ("Unlimited", "", None, "GB", "-1 GB", 1024):
        assert airalo_parsing.megabytes_from_label(label) is None


# --- webhooks --------------------------------------------------------------------------------


def test_a_signed_low_data_notification_is_read_without_a_usage(adapter):
    body = raw_fixture("webhook_low_data")
    event = adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=body)
    assert (event.event_type, event.iccid, event.usage) == ("low_data_notification", ICCID, None)
    assert event.payload["remaining_percentage"] == 10
    assert event.event_id.startswith("low_data_notification:")
    again = adapter.parse_callback(headers={"Airalo-Signature": sign(body).upper()}, body=body)
    assert again.event_id == event.event_id  # Airalo's re-deliveries are recognised


def test_the_signature_over_the_sdk_encoding_of_the_body_is_accepted(adapter):
    payload = {"event": "low_data_notification", "type": "expire_1", "iccid": ICCID, "u": "a/b"}
    body = json.dumps(payload, indent=2).encode()
    php_style = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()
    event = adapter.parse_callback(headers={"airalo-signature": sign(php_style)}, body=body)
    assert (event.event_type, event.iccid) == ("low_data_notification", ICCID)


@pytest.mark.parametrize(
    "headers",
    [{}, {"airalo-signature": ""}, {"airalo-signature": "0" * 128}, {"airalo-signature": "zz"}],
)
def test_missing_or_wrong_signatures_are_refused(adapter, headers):
    with pytest.raises(CallbackError) as caught:
        adapter.parse_callback(headers=headers, body=raw_fixture("webhook_low_data"))
    assert caught.value.code == "invalid_signature"


def test_a_body_changed_after_signing_is_refused(adapter):
    body = raw_fixture("webhook_low_data")
    forged = body.replace(b'"remaining_percentage": 10', b'"remaining_percentage": 99')
    with pytest.raises(CallbackError) as caught:
        adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=forged)
    assert caught.value.code == "invalid_signature"


def test_a_configured_webhook_secret_replaces_the_client_secret(provider, settings):
    settings.PROVIDER_CREDENTIALS = {"airalo": {**CREDENTIALS, "webhook_secret": "hook-secret"}}
    adapter = AiraloAdapter(provider)
    body = raw_fixture("webhook_low_data")
    with pytest.raises(CallbackError):
        adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=body)
    event = adapter.parse_callback(
        headers={"airalo-signature": sign(body, "hook-secret")}, body=body
    )
    assert event.iccid == ICCID


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"hello": "world"}',
        b'{"level": "90%", "remaining_percentage": 10}',
        b'{"level": "90%", "remaining_percentage": "ten", "iccid": "891000000000009128"}',
        b'{"event": "low_data_notification", "iccid": "89-10"}',
    ],
)
def test_malformed_notifications_are_refused(adapter, body):
    with pytest.raises(CallbackError) as caught:
        adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=body)
    assert caught.value.code == "invalid_callback"


def test_a_credit_limit_notification_is_recorded_without_a_sim(adapter):
    body = raw_fixture("webhook_credit_limit")
    event = adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=body)
    assert (event.event_type, event.iccid, event.usage) == ("credit_limit_notification", "", None)


def test_a_notification_stating_megabytes_carries_a_usage(adapter):
    payload = {**fixture("webhook_low_data"), "remaining": 100, "total": 1024}
    payload["expired_at"] = "2025-03-08 09:00:00"
    body = json.dumps(payload).encode()
    with time_machine.travel(START, tick=False):
        event = adapter.parse_callback(headers={"airalo-signature": sign(body)}, body=body)
    assert event.usage == Usage(1024, 100, datetime(2025, 3, 8, 9, tzinfo=UTC), "active", START)


def test_the_callback_endpoint_records_airalo_notifications(client, provider):
    body = raw_fixture("webhook_low_data")
    url = reverse("provider_callback", args=[provider.pk])

    response = client.post(
        url, data=body, content_type="application/json", headers={"airalo-signature": sign(body)}
    )
    assert response.status_code == 200 and response.json() == {"status": "recorded"}
    response = client.post(
        url, data=body, content_type="application/json", headers={"airalo-signature": sign(body)}
    )
    assert response.json() == {"status": "duplicate"}
    event = WebhookEvent.objects.get()
    assert event.event_type == "low_data_notification"
    assert event.payload == fixture("webhook_low_data")

    response = client.post(
        url, data=body, content_type="application/json", headers={"airalo-signature": "00"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4))
def test_any_signed_body_verifies_and_any_other_secret_does_not(extra):
    body = json.dumps({**copy.deepcopy(fixture("webhook_low_data")), **extra}).encode()
    airalo_parsing.verify_signature({"airalo-signature": sign(body)}, body, SECRET)
    with pytest.raises(CallbackError):
        airalo_parsing.verify_signature({"airalo-signature": sign(body, "other")}, body, SECRET)
