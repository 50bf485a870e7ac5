"""The eSIM Access adapter against a stateful stand-in built from recorded shapes (``fixtures/``).

The stand-in checks every request's signature, dedupes orders by ``transactionId`` as the docs
promise, and allocates a profile only after a number of queries, so the tests exercise the
asynchronous allocation, timeouts after the upstream accepted, and retries.
"""

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
import responses
import time_machine
from django.core.cache import cache
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from core.audit import entries_for
from core.validators import luhn_check_digit
from orders.models import Order, Sim, WebhookEvent
from orders.services import provisioning
from orders.services.placing import place_purchase
from plans.models import PlanKind, Provider, ProviderCall
from plans.providers import Capability, NotOffered, get_adapter
from plans.providers.base import (
    CallbackError,
    PermanentProviderError,
    TransientProviderError,
)
from plans.providers.esimaccess import EsimAccessAdapter, parsing
from plans.providers.http import UpstreamTimeout
from tests.factories import (
    CustomerFactory,
    OperatorFactory,
    PlanFactory,
    PlanPriceFactory,
    SimFactory,
)

BASE = "https://esimaccess.test"
ACCESS_CODE, SECRET_KEY = "ac-0123456789", "sk-secret"
CALLBACK_ENV, CALLBACK_SECRET = "ESIMACCESS_CALLBACK_SECRET_TEST", "cb-7f3a9e"
FIXTURES = Path(__file__).parent / "fixtures" / "esimaccess"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
OPERATOR_MAP = {"Jazz": "jazz", "ZONG": "zong"}
pytestmark = pytest.mark.django_db


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def ok(obj) -> tuple:
    return (200, {}, json.dumps({"success": True, "errorCode": "0", "errorMsg": None, "obj": obj}))


def refused(code: str) -> tuple:
    return (
        200,
        {},
        json.dumps({"success": False, "errorCode": code, "errorMsg": "no", "obj": None}),
    )


class FakeEsimAccess:
    """eSIM Access as its docs describe it, in memory (register with ``responses``)."""

    PATHS = ("package/list", "esim/order", "esim/query", "esim/topup", "esim/cancel", "esim/revoke")

    def __init__(self, rsps: responses.RequestsMock, *, allocate_after: int = 0):
        self.allocate_after = allocate_after  # by-orderNo queries answered 200010 first
        self.orders: dict[str, dict] = {}  # transactionId → order
        self.calls: list[tuple[str, dict]] = []
        self.timeouts_after_accept = 0  # the next N order calls are accepted, then time out
        self.canned: dict[str, tuple] = {}  # path → a fixed answer
        for path in self.PATHS:
            rsps.add_callback(responses.POST, f"{BASE}/api/v1/open/{path}", callback=self.handle)

    def handle(self, request):
        path = urlparse(request.url).path.removeprefix("/api/v1/open/")
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        headers = request.headers
        expected = hmac.new(
            SECRET_KEY.encode(),
            (headers["RT-Timestamp"] + headers["RT-RequestID"] + ACCESS_CODE + body).encode(),
            hashlib.sha256,
        ).hexdigest()
        if headers["RT-AccessCode"] != ACCESS_CODE or headers["RT-Signature"] != expected:
            return refused("101003")
        assert re.fullmatch(r"[0-9a-f]{32}", headers["RT-RequestID"])
        assert re.fullmatch(r"\d{13}", headers["RT-Timestamp"])
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        self.calls.append((path, payload))
        if path in self.canned:
            return self.canned[path]
        return getattr(self, path.replace("/", "_"))(payload)

    def calls_to(self, path: str) -> list[dict]:
        return [payload for called, payload in self.calls if called == path]

    @property
    def purchases(self) -> int:
        return len(self.orders)

    # --- endpoints ---

    def esim_order(self, payload):
        tid = payload["transactionId"]
        if tid not in self.orders:  # "Duplicate transactionId will be identified as the same"
            number = len(self.orders) + 1
            partial = f"89852000310004{number:04d}"
            record = fixture("profile_new") | {
                "orderNo": f"B250301090{number:05d}",
                "esimTranNo": f"2503010900{number:04d}",
                "transactionId": tid,
                "iccid": partial + luhn_check_digit(partial),
                "ac": f"LPA:1$rsp-eu.redteamobile.com$MATCH{number:04d}",
            }
            self.orders[tid] = {
                "record": record,
                "polls": 0,
                "allocated": False,
                "payload": payload,
            }
        if self.timeouts_after_accept:
            self.timeouts_after_accept -= 1
            return (200, {}, requests.ReadTimeout("no answer"))
        return ok({"orderNo": self.orders[tid]["record"]["orderNo"]})

    def esim_query(self, payload):
        assert 5 <= payload["pager"]["pageSize"] <= 500
        if "orderNo" in payload:
            [order] = [
                o for o in self.orders.values() if o["record"]["orderNo"] == payload["orderNo"]
            ]
            order["polls"] += 1
            if order["polls"] > self.allocate_after:
                order["allocated"] = True
            if not order["allocated"]:
                return refused("200010")
            return ok({"esimList": [order["record"]], "pager": {"pageNum": 1, "total": 1}})
        records = [o["record"] for o in self.orders.values() if o["allocated"]]
        if "iccid" in payload:
            records = [r for r in records if r["iccid"] == payload["iccid"]]
        else:
            assert payload["startTime"] < payload["endTime"]
        return ok({"esimList": records, "pager": {"pageNum": 1, "total": len(records)}})

    def esim_topup(self, payload):
        return (200, {}, json.dumps(fixture("topup")))

    def esim_cancel(self, payload):
        return ok({})

    esim_revoke = esim_cancel

    def package_list(self, payload):
        name = "package_list_topup" if payload.get("type") == "TOPUP" else "package_list_base"
        return (200, {}, json.dumps(fixture(name)))

    def allocate_all(self):
        for order in self.orders.values():
            order["allocated"] = True

    def tran_no(self, tid: str) -> str:
        return self.orders[tid]["record"]["esimTranNo"]

    def set_record(self, tid: str, **fields):
        self.orders[tid]["record"].update(fields)
        self.orders[tid]["allocated"] = True


@pytest.fixture(autouse=True)
def _credentials(settings):
    settings.PROVIDER_CREDENTIALS = {
        **settings.PROVIDER_CREDENTIALS,
        "esimaccess": {"access_code": ACCESS_CODE, "secret_key": SECRET_KEY, "base_url": BASE},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def provider():
    return Provider.objects.create(
        name="eSIM Access",
        adapter=Provider.Adapter.ESIM_ACCESS,
        settings={
            "operator_map": OPERATOR_MAP,
            "allocation_wait_seconds": 9,
            "allocation_poll_seconds": 3,
            "callback_secret_env": CALLBACK_ENV,
        },
    )


@pytest.fixture
def upstream():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeEsimAccess(rsps, allocate_after=2)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def adapter(provider, sleeps):
    return EsimAccessAdapter(provider, sleep=sleeps.append)


def fresh(adapter) -> EsimAccessAdapter:
    """A new adapter for the same provider, as the next provisioning attempt gets."""
    return EsimAccessAdapter(adapter.provider, sleep=adapter.sleep)


# --- signing, credentials, units ------------------------------------------------------------------


def test_the_signature_matches_the_worked_example_in_the_docs():
    signature = parsing.signature(
        "1628670421", "4ce9d9cdac9e4e17b3a2c66c358c1ce2", "11111", '{"imsi":"326543826"}', "1111"
    )
    assert signature == "7EB765E27DF5373DEA2DBC8C41A7D9557743E46C8054750F3D851B3FD01D0835".lower()


def test_the_registry_builds_it_and_it_needs_both_credentials(provider, settings):
    assert isinstance(get_adapter(provider), EsimAccessAdapter)
    settings.PROVIDER_CREDENTIALS = {"esimaccess": {"access_code": ACCESS_CODE, "secret_key": ""}}
    with pytest.raises(PermanentProviderError, match="secret_key"):
        EsimAccessAdapter(provider)


@given(st.integers(min_value=0, max_value=10**15))
def test_prices_convert_exactly_in_both_directions(units):
    usd = parsing.units_to_usd(units)
    assert usd == Decimal(units) / 10000 and usd.as_tuple().exponent == -4
    assert parsing.usd_to_units(usd) == units


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False))
def test_dollar_amounts_with_four_places_survive_the_round_trip(amount):
    assert parsing.units_to_usd(parsing.usd_to_units(amount)) == amount


def test_an_amount_finer_than_a_ten_thousandth_is_refused():
    with pytest.raises(ValueError):
        parsing.usd_to_units(Decimal("1.00005"))
    with pytest.raises(ValueError):
        parsing.units_to_usd(1.5)


@given(st.integers(min_value=0, max_value=10**9))
def test_whole_megabytes_survive_the_round_trip(mb):
    assert parsing.mb_to_bytes(mb) == mb * 1024 * 1024
    assert parsing.bytes_to_mb(parsing.mb_to_bytes(mb)) == mb


@given(st.integers(min_value=0, max_value=10**15))
def test_bytes_round_down_to_the_megabyte_below(size):
    mb = parsing.bytes_to_mb(size)
    assert parsing.mb_to_bytes(mb) <= size < parsing.mb_to_bytes(mb + 1)


@given(
    total=st.integers(min_value=0, max_value=10**13),
    used=st.integers(min_value=0, max_value=2 * 10**13),
    status=st.sampled_from([*sorted(parsing.ESIM_STATUSES), "SOMETHING_NEW"]),
)
def test_remaining_data_is_total_minus_used_and_never_above_the_total(total, used, status):
    record = {"totalVolume": total, "orderUsage": used, "esimStatus": status}
    reading = parsing.usage(record, START)
    assert reading.data_total_mb == total // 2**20
    assert reading.data_remaining_mb == max(total - used, 0) // 2**20
    assert 0 <= reading.data_remaining_mb <= reading.data_total_mb
    assert reading.status in {"issued", "active", "expired", "cancelled"}


# --- the envelope ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error_class", "outcome"),
    [
        (fixture("error_insufficient_balance"), PermanentProviderError, "permanent"),
        (fixture("error_system_busy"), TransientProviderError, "transient"),
        (
            {"success": False, "errorCode": "101003", "obj": None},
            PermanentProviderError,
            "permanent",
        ),
        (
            {"success": False, "errorCode": "424242", "errorMsg": "?"},
            PermanentProviderError,
            "permanent",
        ),
        ({"unexpected": True}, TransientProviderError, "transient"),
    ],
)
def test_a_200_that_says_failure_is_an_error_and_logged_as_one(adapter, body, error_class, outcome):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/api/v1/open/package/list", json=body)
        with pytest.raises(error_class) as caught:
            adapter.list_catalog()
    assert caught.value.summary.startswith("package.list: ")
    call = ProviderCall.objects.get()
    assert (call.status_code, call.outcome) == (200, outcome)
    assert call.error == caught.value.summary


def test_a_success_written_as_a_string_is_a_success(adapter):
    body = fixture("package_list_topup") | {"success": "true"}
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/api/v1/open/package/list", json=body)
        rsps.post(f"{BASE}/api/v1/open/package/list", json=body)
        assert len(adapter.list_catalog()) == 2
    assert set(ProviderCall.objects.values_list("outcome", flat=True)) == {"ok"}


def test_http_errors_keep_the_shared_mapping(adapter):
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/api/v1/open/esim/query", status=503, body="down")
        with pytest.raises(TransientProviderError):
            adapter.read_usage(iccid="8985200031000422177")


# --- catalog --------------------------------------------------------------------------------------


def test_the_catalog_maps_packages_to_our_terms(adapter, upstream):
    items = {item.sku: item for item in adapter.list_catalog()}
    assert [p["locationCode"] for p in upstream.calls_to("package/list")] == ["PK", "PK"]
    assert [p["type"] for p in upstream.calls_to("package/list")] == ["BASE", "TOPUP"]
    assert "PK_1_Daily" not in items  # a day pass has no place in our plans
    jazz = items["PK_3_7"]
    assert (jazz.name, jazz.kind, jazz.operator_code) == ("Pakistan 3GB 7Days", "esim", "jazz")
    assert (jazz.cost, jazz.cost_currency) == (Decimal("2.1000"), "USD")
    assert (jazz.data_mb, jazz.validity_days, jazz.data_unlimited) == (3072, 7, False)
    assert items["PK_10_30"].operator_code == ""  # Jazz and Zong: not one of ours
    assert items["PK_1_7"].operator_code == ""  # Telenor is not in the map
    odd = items["PK_0.5_3"]  # "zong " matches "ZONG"; 500 000 000 bytes round down
    assert (odd.operator_code, odd.data_mb, odd.cost) == ("zong", 476, Decimal("0.3333"))
    assert items["AS-12_5_30"].operator_code == "zong"  # only the networks in Pakistan count
    topup = items["PK_3_7_TOPUP"]
    assert (topup.kind, topup.cost, topup.data_mb) == (PlanKind.RENEWAL, Decimal("2.0000"), 3072)


def test_the_sku_can_be_the_package_code_and_top_ups_can_be_left_out(provider, upstream):
    provider.settings |= {"sku_field": "packageCode", "include_topups": False}
    provider.save()
    skus = {item.sku for item in EsimAccessAdapter(provider).list_catalog()}
    assert skus == {"PKJZ03G07", "PKMX10G30", "PKTP01G07", "PKZG500M3", "AS12Z05G30"}
    assert len(upstream.calls_to("package/list")) == 1


# --- issuing --------------------------------------------------------------------------------------


def test_an_order_is_polled_until_its_profile_is_allocated(adapter, upstream, sleeps):
    profile = adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    [order] = upstream.calls_to("esim/order")
    assert order == {
        "transactionId": "ord-R1",
        "packageInfoList": [{"packageCode": "PK_3_7", "count": 1}],
    }
    assert len(upstream.calls_to("esim/query")) == 3  # two "200010", then the profile
    assert sleeps == [3.0, 3.0]
    record = upstream.orders["ord-R1"]["record"]
    assert profile.iccid == record["iccid"]
    assert profile.activation_code == record["ac"]
    assert profile.upstream_reference == record["orderNo"]
    assert (profile.data_total_mb, profile.expires_at, profile.msisdn) == (3072, None, "")


def test_the_order_carries_the_plans_usd_cost_as_a_price_check(adapter, upstream):
    PlanFactory(
        provider=adapter.provider, provider_sku="PK_3_7", cost=Decimal("2.1"), cost_currency="USD"
    )
    adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    [order] = upstream.calls_to("esim/order")
    assert order["amount"] == 21000
    assert order["packageInfoList"] == [{"packageCode": "PK_3_7", "count": 1, "price": 21000}]


def test_a_changed_price_or_an_empty_balance_is_permanent(adapter, upstream):
    upstream.canned["esim/order"] = refused("200005")
    with pytest.raises(PermanentProviderError, match="200005"):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    upstream.canned["esim/order"] = refused("200007")
    with pytest.raises(PermanentProviderError, match="insufficient account balance"):
        adapter.issue_esim(reference="ord-R2", plan_sku="PK_3_7")


def test_a_slow_allocation_is_transient_and_the_retry_does_not_order_again(
    adapter, upstream, sleeps
):
    upstream.allocate_after = 10
    with pytest.raises(TransientProviderError, match="profile not ready"):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    assert len(sleeps) == 3  # 9 s of waiting in 3 s steps, never a real sleep
    upstream.allocate_after = 0
    profile = fresh(adapter).issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    assert upstream.purchases == 1 and len(upstream.calls_to("esim/order")) == 1
    assert profile.iccid == upstream.orders["ord-R1"]["record"]["iccid"]


def test_a_timeout_after_the_order_was_accepted_still_gives_one_profile(adapter, upstream):
    upstream.timeouts_after_accept = 1
    with time_machine.travel(START, tick=False), pytest.raises(UpstreamTimeout):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    upstream.allocate_all()  # allocated meanwhile
    cache.clear()  # and the retry runs where nothing is remembered
    with time_machine.travel(START + timedelta(seconds=40), tick=False):
        profile = fresh(adapter).issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    assert upstream.purchases == 1
    assert len(upstream.calls_to("esim/order")) == 1  # found by transactionId, not re-ordered
    [lookup] = upstream.calls_to("esim/query")
    assert lookup["startTime"] == "2025-03-01T08:50+00:00"
    assert lookup["endTime"] == "2025-03-01T09:10+00:00"
    assert lookup["pager"] == {"pageNum": 1, "pageSize": 500}
    assert profile.iccid == upstream.orders["ord-R1"]["record"]["iccid"]


def test_a_retry_that_cannot_find_the_order_resends_the_same_transaction(adapter, upstream):
    upstream.timeouts_after_accept = 1
    with pytest.raises(UpstreamTimeout):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    upstream.allocate_after = 0  # not allocated yet when the retry looks
    profile = fresh(adapter).issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    orders = upstream.calls_to("esim/order")
    assert [o["transactionId"] for o in orders] == ["ord-R1", "ord-R1"]
    assert upstream.purchases == 1  # the upstream answered the existing order
    assert profile.iccid == upstream.orders["ord-R1"]["record"]["iccid"]
    queries = upstream.calls_to("esim/query")
    assert "startTime" in queries[0] and queries[1]["orderNo"] == profile.upstream_reference


def test_an_unknown_refusal_of_a_resent_order_is_transient(adapter, upstream):
    upstream.timeouts_after_accept = 1
    with pytest.raises(UpstreamTimeout):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    upstream.canned["esim/order"] = refused("777777")
    with pytest.raises(TransientProviderError, match="will look it up again"):
        fresh(adapter).issue_esim(reference="ord-R1", plan_sku="PK_3_7")


def test_a_first_attempt_orders_without_looking_anything_up(adapter, upstream):
    upstream.allocate_after = 0
    adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    assert [path for path, _ in upstream.calls] == ["esim/order", "esim/query"]


def test_different_references_buy_different_profiles(adapter, upstream):
    upstream.allocate_after = 0
    first = adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    second = adapter.issue_esim(reference="ord-R1-2", plan_sku="PK_3_7")
    assert first.iccid != second.iccid and upstream.purchases == 2


def test_a_profile_cancelled_upstream_is_not_handed_out(adapter, upstream):
    upstream.allocate_after = 0
    adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")
    upstream.set_record("ord-R1", esimStatus="CANCEL")
    with pytest.raises(PermanentProviderError, match="cancelled upstream"):
        fresh(adapter).issue_esim(reference="ord-R1", plan_sku="PK_3_7")


def test_replacements_for_a_number_and_overlong_references_are_refused(adapter, upstream):
    with pytest.raises(PermanentProviderError, match="number"):
        adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7", msisdn="+923001234567")
    with pytest.raises(PermanentProviderError, match="1-50"):
        adapter.issue_esim(reference="x" * 51, plan_sku="PK_3_7")
    assert upstream.calls == []


# --- renewal, usage, cancel, recharge -------------------------------------------------------------


@pytest.fixture
def issued(adapter, upstream):
    upstream.allocate_after = 0
    return adapter.issue_esim(reference="ord-R1", plan_sku="PK_3_7")


def test_a_renewal_tops_up_by_esim_tran_no_with_our_reference(adapter, upstream, issued):
    upstream.set_record("ord-R1", **in_use())
    result = adapter.renew(reference="ord-T1", iccid=issued.iccid, plan_sku="TOPUP_PKJZ03G07")
    [topup] = upstream.calls_to("esim/topup")
    assert topup == {
        "esimTranNo": upstream.tran_no("ord-R1"),
        "packageCode": "TOPUP_PKJZ03G07",
        "transactionId": "ord-T1",
    }
    assert result.expires_at == datetime(2025, 3, 16, 10, 0, tzinfo=UTC)
    assert result.data_added_mb == 3072
    assert result.upstream_reference == f"topup-{upstream.tran_no('ord-R1')}"


def test_an_expired_profile_is_not_topped_up(adapter, upstream, issued):
    upstream.set_record("ord-R1", esimStatus="USED_EXPIRED")
    with pytest.raises(PermanentProviderError, match="USED_EXPIRED"):
        adapter.renew(reference="ord-T1", iccid=issued.iccid, plan_sku="TOPUP_PKJZ03G07")
    assert upstream.calls_to("esim/topup") == []


def test_usage_of_a_profile_in_use(adapter, upstream, issued):
    upstream.set_record("ord-R1", **in_use())
    with time_machine.travel(START + timedelta(days=2), tick=False):
        reading = adapter.read_usage(iccid=issued.iccid)
    assert upstream.calls_to("esim/query")[-1]["iccid"] == issued.iccid
    assert (reading.data_total_mb, reading.data_remaining_mb) == (3072, 2047)
    assert reading.expires_at == datetime(2025, 3, 9, 10, 0, tzinfo=UTC)
    assert (reading.status, reading.as_of) == ("active", START + timedelta(days=2))


@pytest.mark.parametrize(
    ("esim_status", "status", "has_expiry"),
    [
        ("GOT_RESOURCE", "issued", False),  # expiredTime is only the install-by date
        ("USED_UP", "active", True),
        ("USED_EXPIRED", "expired", True),
        ("UNUSED_EXPIRED", "expired", True),
        ("CANCEL", "cancelled", True),
        ("REVOKED", "cancelled", True),
    ],
)
def test_upstream_statuses_map_onto_ours(
    adapter, upstream, issued, esim_status, status, has_expiry
):
    upstream.set_record("ord-R1", esimStatus=esim_status)
    reading = adapter.read_usage(iccid=issued.iccid)
    assert reading.status == status
    assert (reading.expires_at is not None) == has_expiry


def test_usage_reads_the_newest_profile_of_a_reused_iccid(adapter, upstream, issued):
    adapter.issue_esim(reference="ord-R2", plan_sku="PK_3_7")
    upstream.set_record("ord-R1", esimStatus="CANCEL")
    upstream.set_record("ord-R2", iccid=issued.iccid, esimStatus="IN_USE")
    assert adapter.read_usage(iccid=issued.iccid).status == "active"


def test_an_unknown_iccid_is_permanent(adapter, upstream):
    with pytest.raises(PermanentProviderError, match="no profile"):
        adapter.read_usage(iccid="8985200031000422185")


def test_an_unused_profile_is_cancelled_for_a_refund(adapter, upstream, issued):
    adapter.cancel(reference="ord-R1", iccid=issued.iccid)
    assert upstream.calls_to("esim/cancel") == [{"esimTranNo": upstream.tran_no("ord-R1")}]
    upstream.set_record("ord-R1", esimStatus="CANCEL")
    adapter.cancel(reference="ord-R1", iccid=issued.iccid)  # again: nothing left to do
    assert len(upstream.calls_to("esim/cancel")) == 1


def test_a_used_profile_is_revoked_unless_that_is_turned_off(adapter, upstream, issued):
    upstream.set_record("ord-R1", **in_use())
    adapter.cancel(reference="ord-R1", iccid=issued.iccid)
    assert upstream.calls_to("esim/revoke") == [{"esimTranNo": upstream.tran_no("ord-R1")}]
    adapter.provider.settings["revoke_used_profiles"] = False
    with pytest.raises(PermanentProviderError, match="cannot be cancelled"):
        fresh(adapter).cancel(reference="ord-R1", iccid=issued.iccid)
    assert upstream.calls_to("esim/cancel") == []


def test_airtime_is_not_sold(adapter):
    assert not adapter.offers(Capability.RECHARGE)
    with pytest.raises(NotOffered, match="airtime"):
        get_adapter(adapter.provider, needs=Capability.RECHARGE)


# --- webhooks -------------------------------------------------------------------------------------


def in_use() -> dict:
    """The in-use profile's state, without its identity (the stand-in assigns that)."""
    identity = {"esimTranNo", "orderNo", "transactionId", "iccid", "ac", "imsi"}
    return {k: v for k, v in fixture("profile_in_use").items() if k not in identity}


def body_of(name: str, **changes) -> bytes:
    payload = fixture(name)
    payload["content"] |= changes
    return json.dumps(payload).encode()


@pytest.fixture
def callback_secret(monkeypatch):
    monkeypatch.setenv(CALLBACK_ENV, CALLBACK_SECRET)
    return CALLBACK_SECRET


def test_a_data_usage_notification_becomes_a_reading(adapter, callback_secret):
    event = adapter.parse_callback(
        headers={"x-callback-token": callback_secret}, body=body_of("webhook_data_usage")
    )
    assert (event.event_id, event.event_type) == ("f776267e8d6745db8cc316e4c146ea0c", "DATA_USAGE")
    assert event.iccid == "8985200031000422177"
    assert (event.usage.data_total_mb, event.usage.data_remaining_mb) == (3072, 307)
    assert (event.usage.status, event.usage.expires_at) == ("active", None)
    assert event.usage.as_of == datetime(2025, 3, 5, 9, 38, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    [
        "webhook_esim_status",
        "webhook_order_status",
        "webhook_validity_usage",
        "webhook_check_health",
    ],
)
def test_other_notifications_are_recorded_without_a_reading(adapter, callback_secret, name):
    event = adapter.parse_callback(
        headers={"X-Callback-Token": callback_secret}, body=body_of(name)
    )
    assert event.usage is None
    assert event.event_type == fixture(name)["notifyType"]


def test_without_a_notify_id_the_event_id_is_a_stable_hash_of_the_body(adapter, callback_secret):
    headers = {"X-Callback-Token": callback_secret}
    payload = fixture("webhook_validity_usage")
    first = adapter.parse_callback(headers=headers, body=json.dumps(payload).encode())
    reordered = json.dumps(dict(reversed(list(payload.items()))), indent=2).encode()
    again = adapter.parse_callback(headers=headers, body=reordered)
    other = adapter.parse_callback(
        headers=headers, body=body_of("webhook_validity_usage", remain=2)
    )
    assert first.event_id == again.event_id != other.event_id
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.event_id)


def test_the_secret_may_come_as_the_basic_auth_password(adapter, callback_secret):
    token = base64.b64encode(f"esimaccess:{callback_secret}".encode()).decode()
    event = adapter.parse_callback(
        headers={"Authorization": f"Basic {token}"}, body=body_of("webhook_order_status")
    )
    assert event.event_type == "ORDER_STATUS"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Callback-Token": "wrong"},
        {"Authorization": "Basic " + base64.b64encode(b"esimaccess:wrong").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": f"Bearer {CALLBACK_SECRET}"},
    ],
)
def test_callbacks_without_the_secret_are_refused(adapter, callback_secret, headers):
    with pytest.raises(CallbackError) as caught:
        adapter.parse_callback(headers=headers, body=body_of("webhook_data_usage"))
    assert caught.value.code == "invalid_signature"


def test_the_secret_may_be_a_webhook_secret_credential(provider, settings, monkeypatch):
    monkeypatch.delenv(CALLBACK_ENV, raising=False)
    credentials = settings.PROVIDER_CREDENTIALS["esimaccess"] | {"webhook_secret": "from-env"}
    settings.PROVIDER_CREDENTIALS = {"esimaccess": credentials}
    event = EsimAccessAdapter(provider).parse_callback(
        headers={"X-Callback-Token": "from-env"}, body=body_of("webhook_check_health")
    )
    assert event.event_type == "CHECK_HEALTH"


def test_with_no_secret_configured_every_callback_is_refused(adapter, monkeypatch):
    monkeypatch.delenv(CALLBACK_ENV, raising=False)
    with pytest.raises(CallbackError, match="No callback secret"):
        adapter.parse_callback(headers={"X-Callback-Token": ""}, body=body_of("webhook_data_usage"))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"content": {}}',
        b'{"notifyType": "DATA_USAGE", "content": "x"}',
        body_of("webhook_data_usage", iccid=""),
        body_of("webhook_data_usage", totalVolume=-1),
        body_of("webhook_data_usage", orderUsage=None),
        body_of("webhook_data_usage", lastUpdateTime="yesterday"),
    ],
)
def test_malformed_notifications_are_refused(adapter, callback_secret, body):
    with pytest.raises(CallbackError) as caught:
        adapter.parse_callback(headers={"X-Callback-Token": callback_secret}, body=body)
    assert caught.value.code == "invalid_callback"


def test_a_usage_notification_updates_the_sim_through_the_callback_endpoint(
    client, provider, callback_secret
):
    sim = SimFactory(
        provider=provider,
        iccid="8985200031000422177",
        operator=OperatorFactory(code="jazz"),
        data_total_mb=3072,
        data_remaining_mb=3072,
    )
    url = reverse("provider_callback", args=[provider.pk])
    body = body_of("webhook_data_usage")
    for _ in range(2):
        response = client.post(
            url,
            data=body,
            content_type="application/json",
            headers={"X-Callback-Token": CALLBACK_SECRET},
        )
    assert response.status_code == 200 and response.json() == {"status": "duplicate"}
    sim.refresh_from_db()
    assert (sim.data_total_mb, sim.data_remaining_mb, sim.status) == (3072, 307, Sim.Status.ACTIVE)
    event = WebhookEvent.objects.get()
    assert event.event_id == f"{provider.pk}:f776267e8d6745db8cc316e4c146ea0c"
    forged = client.post(url, data=body, content_type="application/json")
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_signature"


# --- through provisioning and the callback endpoint -----------------------------------------------


@pytest.fixture
def paid_order(provider):
    """A customer's paid purchase of a plan sold through eSIM Access (USD cost: price-checked)."""
    plan = PlanFactory(
        provider=provider,
        provider_sku="PK_3_7",
        operator=OperatorFactory(code="jazz"),
        data_mb=3072,
        validity_days=7,
        cost=Decimal("2.1"),
        cost_currency="USD",
    )
    PlanPriceFactory(plan=plan, currency="PKR", amount=Decimal("899"))
    order = place_purchase(plan=plan, customer=CustomerFactory(), currency="PKR")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    return order


def test_a_paid_order_is_provisioned_through_esim_access(
    provider, upstream, paid_order, django_capture_on_commit_callbacks
):
    upstream.allocate_after = 0  # allocated at the first query: no waiting
    with django_capture_on_commit_callbacks(execute=False):
        assert provisioning.provision_order(paid_order.pk) == Order.Status.FULFILLED

    reference = paid_order.provider_reference
    record = upstream.orders[reference]["record"]
    [sent] = upstream.calls_to("esim/order")
    assert sent == {
        "transactionId": reference,
        "packageInfoList": [{"packageCode": "PK_3_7", "count": 1, "price": 21000}],
        "amount": 21000,
    }
    sim = Sim.objects.get()
    assert sim.iccid == record["iccid"]
    assert sim.activation_code == record["ac"] == "LPA:1$rsp-eu.redteamobile.com$MATCH0001"
    assert (sim.smdp_address, sim.matching_id) == ("rsp-eu.redteamobile.com", "MATCH0001")
    assert (sim.provider, sim.provider_reference) == (provider, reference)
    assert (sim.issued_by_order_id, sim.owner_id) == (paid_order.pk, paid_order.customer_id)
    assert (sim.data_total_mb, sim.data_remaining_mb) == (3072, 3072)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED
    assert paid_order.upstream_reference == record["orderNo"]
    logged = ProviderCall.objects.filter(provider=provider).order_by("id")
    assert list(logged.values_list("operation", "method", "path", "reference", "outcome")) == [
        ("esim.order", "POST", "/api/v1/open/esim/order", reference, "ok"),
        ("esim.query", "POST", "/api/v1/open/esim/query", reference, "ok"),
    ]
    attempt = paid_order.provisioning_attempts.get()
    assert (attempt.outcome, attempt.reference) == ("succeeded", reference)
    assert record["orderNo"] in attempt.response_summary
    assert "LPA:" not in attempt.response_summary  # the activation code stays out of the log


def test_a_profile_not_ready_is_provisioned_on_the_next_run_without_a_second_purchase(
    provider, upstream, paid_order, django_capture_on_commit_callbacks
):
    provider.settings |= {"allocation_wait_seconds": 0}  # one query per run, never a sleep
    provider.save()
    upstream.allocate_after = 1
    with pytest.raises(TransientProviderError, match="profile not ready"):
        provisioning.provision_order(paid_order.pk)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PROVISIONING
    assert not Sim.objects.exists()

    with django_capture_on_commit_callbacks(execute=False):
        assert provisioning.provision_order(paid_order.pk) == Order.Status.FULFILLED

    assert upstream.purchases == 1 and len(upstream.calls_to("esim/order")) == 1
    assert (
        Sim.objects.get().iccid == upstream.orders[paid_order.provider_reference]["record"]["iccid"]
    )
    attempts = paid_order.provisioning_attempts.order_by("number")
    assert list(attempts.values_list("outcome", flat=True)) == ["transient_error", "succeeded"]
    logged = ProviderCall.objects.filter(reference=paid_order.provider_reference).order_by("id")
    assert list(logged.values_list("operation", "outcome")) == [
        ("esim.order", "ok"),
        ("esim.query", "transient"),  # 200010: still allocating
        ("esim.query", "ok"),
    ]


@pytest.fixture
def usage_sim(provider):
    """Our SIM for the ICCID in the recorded DATA_USAGE notification, nothing used yet."""
    return SimFactory(
        provider=provider,
        iccid="8985200031000422177",
        operator=OperatorFactory(code="jazz"),
        data_total_mb=3072,
        data_remaining_mb=3072,
    )


def post_callback(client, provider, body: bytes, headers: dict):
    return client.post(
        reverse("provider_callback", args=[provider.pk]),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def sim_row(sim) -> dict:
    return Sim.objects.filter(pk=sim.pk).values().get()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Callback-Token": CALLBACK_SECRET},
        {
            "Authorization": "Basic "
            + base64.b64encode(f"esimaccess:{CALLBACK_SECRET}".encode()).decode()
        },
    ],
    ids=["token-header", "basic-auth"],
)
def test_the_callback_endpoint_applies_a_data_usage_reading_once(
    client, provider, callback_secret, usage_sim, headers
):
    body = body_of("webhook_data_usage")

    response = post_callback(client, provider, body, headers)

    assert response.status_code == 200 and response.json() == {"status": "applied"}
    usage_sim.refresh_from_db()
    assert (usage_sim.data_total_mb, usage_sim.data_remaining_mb) == (3072, 307)
    assert usage_sim.status == Sim.Status.ACTIVE
    assert usage_sim.usage_synced_at == datetime(2025, 3, 5, 9, 38, 25, tzinfo=UTC)
    event = WebhookEvent.objects.get()
    assert (event.source, event.event_type) == (WebhookEvent.Source.PROVIDER, "DATA_USAGE")
    assert event.event_id == f"{provider.pk}:f776267e8d6745db8cc316e4c146ea0c"
    assert event.payload == json.loads(body)
    assert event.processed_at is not None and event.error == ""
    after_first, audit_entries = sim_row(usage_sim), entries_for(usage_sim).count()
    assert audit_entries == 1  # issued → active

    again = post_callback(client, provider, body, headers)

    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert sim_row(usage_sim) == after_first  # not even updated_at moved
    assert entries_for(usage_sim).count() == audit_entries
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Callback-Token": ""},
        {"X-Callback-Token": "wrong"},
        {"X-Callback-Token": CALLBACK_SECRET + "x"},
        {"X-Other-Token": CALLBACK_SECRET},
        {"Authorization": "Basic " + base64.b64encode(b"esimaccess:wrong").decode()},
        {"Authorization": f"Bearer {CALLBACK_SECRET}"},
    ],
    ids=["missing", "empty", "wrong", "longer", "other-header", "wrong-basic", "bearer"],
)
def test_the_callback_endpoint_refuses_a_wrong_or_missing_secret_and_records_nothing(
    client, provider, callback_secret, usage_sim, headers
):
    body = body_of("webhook_data_usage")
    before = sim_row(usage_sim)

    response = post_callback(client, provider, body, headers)

    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    assert sim_row(usage_sim) == before
    # The refused delivery did not use up the event id: the genuine one is still applied.
    genuine = post_callback(client, provider, body, {"X-Callback-Token": CALLBACK_SECRET})
    assert genuine.json() == {"status": "applied"}


def test_the_callback_endpoint_refuses_everything_while_no_secret_is_configured(
    client, provider, usage_sim, monkeypatch
):
    monkeypatch.delenv(CALLBACK_ENV, raising=False)
    for headers in ({}, {"X-Callback-Token": ""}, {"X-Callback-Token": CALLBACK_SECRET}):
        response = post_callback(client, provider, body_of("webhook_data_usage"), headers)
        assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()
    usage_sim.refresh_from_db()
    assert (usage_sim.data_remaining_mb, usage_sim.usage_synced_at) == (3072, None)
