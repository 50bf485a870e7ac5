"""The Reloadly Airtime adapter against Reloadly's documented request/response shapes.

Fixtures in ``fixtures/reloadly/`` follow the field names and shapes of the public Airtime API
reference; the operator ids are made up.
"""

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import requests
import responses
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from responses import matchers

from orders.models import Order
from orders.services import provisioning
from orders.services.placing import place_recharge
from plans.models import Operator, PlanKind, Provider, ProviderCall
from plans.providers import Capability, NotOffered, get_adapter
from plans.providers.base import PermanentProviderError, RechargeResult, TransientProviderError
from plans.providers.http import BadResponse, Unauthorized, UpstreamTimeout
from plans.providers.reloadly import parsing as rp
from plans.providers.reloadly.adapter import ACCEPT, ReloadlyAdapter
from tests.factories import CustomerFactory, OperatorFactory, PlanFactory, PlanPriceFactory

FIXTURES = Path(__file__).parent / "fixtures" / "reloadly"
BASE = "https://topups-sandbox.reloadly.com"
AUTH = "https://auth.reloadly.com/oauth/token"
NUMBER, WIRE = "0312 3456789", "923123456789"
DETECT = f"{BASE}/operators/auto-detect/phone/{WIRE}/countries/PK"
REPORT = f"{BASE}/topups/reports/transactions"
TOPUPS = f"{BASE}/topups"
STATUS = f"{BASE}/topups/48213/status"
OPERATOR_MAP = {"1701": "jazz", "1702": "zong", "1705": "jazz"}
RESULT = RechargeResult("48213", Decimal("500.00"), "PKR", "2025030109001234")
pytestmark = pytest.mark.django_db


def load(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture(autouse=True)
def _credentials(settings):
    settings.PROVIDER_CREDENTIALS = {
        **settings.PROVIDER_CREDENTIALS,
        "reloadly": {"client_id": "cid", "client_secret": "csecret"},  # default URLs
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def provider():
    for code, name in [
        ("jazz", "Jazz"),
        ("zong", "Zong"),
        ("telenor", "Telenor"),
        ("ufone", "Ufone"),
    ]:
        OperatorFactory(code=code, name=name)
    return Provider.objects.create(
        name="Reloadly", adapter=Provider.Adapter.RELOADLY, settings={"operator_map": OPERATOR_MAP}
    )


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(AUTH, json=load("token"))
        yield mock


def upstream(mock, *, reports=("transactions_empty",), detect="operator_zong"):
    """The calls before a POST: the reference lookup(s), in order, and the detection."""
    for report in reports:
        mock.get(
            REPORT,
            json=load(report),
            match=[matchers.query_param_matcher({"customIdentifier": "ord-R1001"})],
        )
    if detect:
        mock.get(DETECT, json=load(detect))


def recharge(provider, amount="500", **overrides):
    args = {
        "reference": "ord-R1001",
        "msisdn": NUMBER,
        "operator_code": "zong",
        "plan_sku": "1702:500",
        "amount": Decimal(amount),
        "currency": "PKR",
    }
    return get_adapter(provider).recharge(**(args | overrides))


def calls(mock, method, url):
    return [
        c for c in mock.calls if c.request.method == method and c.request.url.split("?")[0] == url
    ]


def test_the_registry_builds_it_and_it_needs_both_credentials(provider, settings):
    assert isinstance(get_adapter(provider), ReloadlyAdapter)
    settings.PROVIDER_CREDENTIALS = {"reloadly": {"client_id": "cid"}}
    with pytest.raises(PermanentProviderError, match=r"credentials missing \(client_secret\)"):
        get_adapter(provider)


def test_a_recharge_sends_one_local_pkr_topup(provider, rsps):
    upstream(rsps)
    rsps.post(
        TOPUPS,
        json=load("topup_successful"),
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer eyJraWQiOiJ0ZXN0In0.sandbox-token", "Accept": ACCEPT}
            )
        ],
    )
    assert recharge(provider) == RESULT
    assert json.loads(rsps.calls[0].request.body) == {
        "client_id": "cid",
        "client_secret": "csecret",
        "grant_type": "client_credentials",
        "audience": BASE,
    }
    sent = calls(rsps, "POST", TOPUPS)[0].request.body
    assert '"amount": 500.00' in sent  # exact decimal digits, no float
    assert json.loads(sent) == {
        "operatorId": 1702,
        "amount": 500.0,
        "useLocalAmount": True,
        "customIdentifier": "ord-R1001",
        "recipientPhone": {"countryCode": "PK", "number": WIRE},
    }
    logged = list(ProviderCall.objects.order_by("id").values_list("operation", "path", "outcome"))
    assert logged == [
        ("token", "/oauth/token", "ok"),
        ("find-topup", "/topups/reports/transactions", "ok"),
        ("detect-operator", "/operators/auto-detect/phone/92312345****/countries/PK", "ok"),
        ("topup", "/topups", "ok"),
    ]
    assert not ProviderCall.objects.filter(path__contains=WIRE).exists()


def test_the_token_is_cached_and_refreshed_once_after_a_401(provider, rsps):
    rsps.get(REPORT, status=401, json=load("error_token_expired"))
    rsps.get(REPORT, json=load("transactions_found"))
    rsps.get(STATUS, json=load("status_successful"))
    assert recharge(provider) == RESULT
    assert recharge(provider) == RESULT  # a new adapter, the cached token
    assert len(calls(rsps, "POST", AUTH)) == 2
    rsps.replace(responses.GET, REPORT, status=401, json=load("error_token_expired"))
    with pytest.raises(Unauthorized):
        recharge(provider)
    assert len(calls(rsps, "POST", AUTH)) == 3  # the cached token, one refresh, then given up


def test_processing_is_asked_again_later_without_a_second_topup(provider, rsps):
    upstream(rsps, reports=["transactions_empty", "transactions_found"])
    rsps.post(TOPUPS, json=load("topup_processing"))
    rsps.get(STATUS, json=load("status_successful"))
    with pytest.raises(TransientProviderError, match="recharge processing") as caught:
        recharge(provider)
    assert caught.value.retry_after == 60
    assert recharge(provider) == RESULT
    assert len(calls(rsps, "POST", TOPUPS)) == 1


@pytest.mark.parametrize("status", ["REFUNDED", "FAILED"])
def test_refunded_and_failed_topups_are_permanent(provider, rsps, status):
    upstream(rsps)
    rsps.post(TOPUPS, json={**load("topup_successful"), "status": status})
    with pytest.raises(PermanentProviderError, match=f"recharge {status.lower()}"):
        recharge(provider)


def test_a_timeout_after_accept_makes_exactly_one_topup(provider, rsps):
    upstream(rsps, reports=["transactions_empty", "transactions_found"])
    rsps.post(TOPUPS, body=requests.ReadTimeout("no answer"))
    rsps.get(STATUS, json=load("status_successful"))
    with pytest.raises(UpstreamTimeout):
        recharge(provider)
    assert recharge(provider) == RESULT  # the retry finds the accepted top-up
    assert len(calls(rsps, "POST", TOPUPS)) == 1
    assert len(calls(rsps, "GET", DETECT)) == 1
    topup_calls = ProviderCall.objects.filter(operation="topup")
    assert list(topup_calls.values_list("outcome", "reference")) == [("transient", "ord-R1001")]


def test_a_duplicate_reference_is_looked_up_not_failed(provider, rsps):
    upstream(rsps, reports=["transactions_empty", "transactions_found"])
    rsps.post(TOPUPS, status=400, json=load("error_custom_identifier_used"))
    rsps.get(STATUS, json=load("status_successful"))
    assert recharge(provider) == RESULT
    assert len(calls(rsps, "POST", TOPUPS)) == 1


def test_a_duplicate_reference_not_listed_yet_waits_and_never_resends(provider, rsps):
    upstream(rsps, reports=["transactions_empty", "transactions_empty"])
    rsps.post(TOPUPS, status=400, json=load("error_custom_identifier_used"))
    with pytest.raises(TransientProviderError, match="not listed yet"):
        recharge(provider)
    assert len(calls(rsps, "POST", TOPUPS)) == 1


def test_a_reference_already_used_is_polled_and_nothing_is_sent(provider, rsps):
    upstream(rsps, reports=["transactions_found"], detect=None)
    rsps.get(STATUS, json=load("status_successful"))
    assert recharge(provider) == RESULT
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "GET"]  # token, find, status


@pytest.mark.parametrize(
    ("detect", "amount", "currency", "message"),
    [
        (
            "operator_zong",
            "150",
            "PKR",
            r"PKR 150 is not a denomination of Zong Pakistan "
            r"\(PKR 50, 100, 200, 500\)",
        ),
        (
            "operator_jazz",
            "50",
            "PKR",
            r"PKR 50 is outside what Jazz Pakistan takes "
            r"\(PKR 100 to 20000\)",
        ),
        ("ufone", "100", "PKR", "Ufone Pakistan does not take amounts in PKR"),
        (None, "99.995", "PKR", "fractions of a paisa"),
        (None, "-5", "PKR", "must be positive"),
        (None, "500", "USD", "in PKR, not USD"),
    ],
)
def test_amounts_are_checked_before_anything_is_sent(
    provider, rsps, detect, amount, currency, message
):
    if detect == "ufone":
        rsps.get(REPORT, json=load("transactions_empty"))
        rsps.get(DETECT, json=next(o for o in load("operators_pk") if o["id"] == 1704))
    elif detect:
        upstream(rsps, detect=detect)
    with pytest.raises(PermanentProviderError, match=message):
        recharge(provider, amount, currency=currency)
    assert not calls(rsps, "POST", TOPUPS)
    if detect is None:
        assert not rsps.calls  # refused before any call


def test_the_detected_operator_wins_when_it_is_one_of_ours(provider, rsps):
    upstream(rsps)  # Reloadly finds the number on Zong; the order said Jazz
    rsps.post(TOPUPS, json=load("topup_successful"))
    recharge(provider, operator_code="jazz", plan_sku="1701:500")
    assert json.loads(calls(rsps, "POST", TOPUPS)[0].request.body)["operatorId"] == 1702


def test_a_number_on_a_network_we_do_not_sell_is_refused(provider, rsps):
    upstream(rsps, detect="operator_onic")
    with pytest.raises(PermanentProviderError, match="on Onic Pakistan, not on a network we sell"):
        recharge(provider)
    assert not calls(rsps, "POST", TOPUPS)


@pytest.mark.parametrize("sku", ["1702:500", "an-old-sku"])
def test_an_undetectable_number_gets_the_orders_operator(provider, rsps, sku):
    rsps.get(REPORT, json=load("transactions_empty"))
    rsps.get(DETECT, status=404, json=load("error_not_detected"))
    rsps.get(f"{BASE}/operators/1702", json=load("operator_zong"))
    rsps.post(TOPUPS, json=load("topup_successful"))
    assert recharge(provider, plan_sku=sku) == RESULT
    assert json.loads(calls(rsps, "POST", TOPUPS)[0].request.body)["operatorId"] == 1702
    with pytest.raises(PermanentProviderError, match="no single Reloadly operator"):
        recharge(provider, operator_code="jazz", plan_sku="an-old-sku", reference="ord-R1002")


def test_a_bundle_sku_on_the_detected_network_goes_to_that_product(provider, rsps):
    rsps.get(REPORT, json=load("transactions_empty"))
    rsps.get(DETECT, json=load("operator_jazz"))
    rsps.get(f"{BASE}/operators/1705", json=load("operator_jazz_bundles"))
    rsps.post(TOPUPS, json=load("topup_successful"))
    recharge(provider, "300", operator_code="jazz", plan_sku="1705:300")
    sent = json.loads(calls(rsps, "POST", TOPUPS)[0].request.body)
    assert (sent["operatorId"], sent["amount"]) == (1705, 300)


def test_operators_are_matched_by_name_without_a_map(provider, rsps):
    provider.settings = {}
    provider.save()
    upstream(rsps)
    rsps.post(TOPUPS, json=load("topup_successful"))
    assert recharge(provider) == RESULT


@pytest.mark.parametrize(
    ("code", "error_class", "retry_after"),
    [
        ("PHONE_RECENTLY_RECHARGED", TransientProviderError, 150),
        ("INSUFFICIENT_BALANCE", TransientProviderError, 600),
        ("INVALID_AMOUNT_FOR_OPERATOR", PermanentProviderError, None),
    ],
)
def test_reloadly_error_codes(provider, rsps, code, error_class, retry_after):
    upstream(rsps)
    rsps.post(TOPUPS, status=400, json={**load("error_invalid_amount"), "errorCode": code})
    with pytest.raises(error_class, match=code) as caught:
        recharge(provider)
    assert caught.value.retry_after == retry_after


@pytest.mark.parametrize(
    ("where", "answer", "error_class", "message"),
    [
        (
            "detect",
            {"status": 429, "headers": {"Retry-After": "30"}},
            TransientProviderError,
            "429",
        ),
        ("topup", {"status": 503, "json": {"message": "busy"}}, TransientProviderError, "503"),
        ("topup", {"body": "<html>maintenance</html>"}, BadResponse, "not JSON"),
        ("topup", {"json": {"transactionId": 48213}}, BadResponse, "no status"),
        (
            "topup",
            {"json": {**load("topup_successful"), "deliveredAmount": None}},
            BadResponse,
            "without the delivered amount",
        ),
    ],
)
def test_busy_or_unreadable_answers_are_transient(
    provider, rsps, where, answer, error_class, message
):
    rsps.get(REPORT, json=load("transactions_empty"))
    if where == "detect":
        rsps.get(DETECT, **answer)
    else:
        rsps.get(DETECT, json=load("operator_zong"))
        rsps.post(TOPUPS, **answer)
    with pytest.raises(error_class, match=message) as caught:
        recharge(provider)
    assert isinstance(caught.value, TransientProviderError)
    assert caught.value.retry_after == (30 if where == "detect" else None)


def test_reloadly_sends_airtime_only(provider):
    assert ReloadlyAdapter.capabilities == {Capability.RECHARGE, Capability.READ_CATALOG}
    for needs in (Capability.ISSUE_ESIM, Capability.RENEW, Capability.CANCEL, Capability.CALLBACKS):
        with pytest.raises(NotOffered, match="Reloadly"):
            get_adapter(provider, needs=needs)


def test_the_catalog_lists_pkr_denominations_of_our_operators(provider, rsps):
    provider.settings = {"operator_map": OPERATOR_MAP, "range_amounts": {"jazz": [50, 100, 250]}}
    provider.save()
    rsps.get(f"{BASE}/operators/countries/PK", json=load("operators_pk"))
    items = get_adapter(provider).list_catalog()
    assert {(i.sku, i.name, i.operator_code, i.cost, i.cost_currency) for i in items} == {
        ("1701:100", "Jazz Pakistan PKR 100", "jazz", Decimal("0.36"), "USD"),
        ("1701:250", "Jazz Pakistan PKR 250", "jazz", Decimal("0.90"), "USD"),
        ("1702:50", "Zong Pakistan PKR 50", "zong", Decimal("0.18"), "USD"),
        ("1702:100", "Zong Pakistan PKR 100", "zong", Decimal("0.36"), "USD"),
        ("1702:200", "Zong 200 Rs airtime", "zong", Decimal("0.71"), "USD"),
        ("1702:500", "Zong 500 Rs airtime", "zong", Decimal("1.79"), "USD"),
        ("1705:300", "Jazz weekly 10 GB", "jazz", Decimal("1.08"), "USD"),
        ("1705:600", "Jazz monthly 30 GB", "jazz", Decimal("2.15"), "USD"),
    }  # Telenor: RANGE without amounts to sell; Ufone: no PKR amounts; Onic: not ours
    assert {(i.kind, i.validity_days) for i in items} == {("recharge", 0)}
    assert all(i.airtime_amount == Decimal(i.sku.split(":")[1]) for i in items)
    provider.settings["range_amounts"] = [100, 500, 10000]
    provider.save()
    skus = {i.sku for i in get_adapter(provider).list_catalog() if i.sku.startswith("1703")}
    assert skus == {"1703:500"}  # Telenor's USD range at its rate is PKR 100.28 to 9999.94


# --- exact money, checked with hypothesis ------------------------------------------------------

cents = st.integers(min_value=1, max_value=10**8).map(lambda c: Decimal(c).scaleb(-2))
rates = st.integers(min_value=1, max_value=10**7).map(lambda r: Decimal(r).scaleb(-4))


def operator_data(**fields):
    return {**rp.loads((FIXTURES / "operator_zong.json").read_text()), **fields}


@given(st.sets(cents, min_size=1, max_size=8), st.one_of(cents, st.none()), st.data())
def test_fixed_operators_take_exactly_their_listed_amounts(listed, other, data):
    amount = other if other is not None else data.draw(st.sampled_from(sorted(listed)))
    operator = rp.parse_operator(operator_data(localFixedAmounts=sorted(listed)))
    if amount in listed:
        rp.check_amount(operator, amount)
    else:
        with pytest.raises(rp.AmountNotAllowed, match="is not a denomination of Zong"):
            rp.check_amount(operator, amount)


@given(cents, cents, rates, cents)
def test_range_bounds_from_the_account_currency_stay_inside_the_true_range(low, high, rate, amount):
    low, high = min(low, high), max(low, high)
    operator = rp.parse_operator(
        operator_data(
            denominationType="RANGE",
            minAmount=low,
            maxAmount=high,
            fx={"rate": rate, "currencyCode": "PKR"},
        )
    )
    bounds = rp.local_range(operator)
    if bounds is None:  # a range narrower than a paisa
        assert (high * rate).quantize(rp.CENT, rounding="ROUND_FLOOR") < low * rate
        return
    local_low, local_high = bounds
    assert low * rate <= local_low < low * rate + rp.CENT
    assert high * rate - rp.CENT < local_high <= high * rate
    assert local_low.as_tuple().exponent == local_high.as_tuple().exponent == -2
    if local_low <= amount <= local_high:
        rp.check_amount(operator, amount)
    else:
        with pytest.raises(rp.AmountNotAllowed, match="is outside what"):
            rp.check_amount(operator, amount)


@given(cents, rates)
def test_costs_convert_to_the_nearest_cent(local, rate):
    operator = rp.parse_operator(operator_data(fx={"rate": rate, "currencyCode": "PKR"}))
    cost, currency = rp.sender_cost(operator, local)
    assert currency == "USD" and cost.as_tuple().exponent == -2
    assert abs(cost * rate - local) <= rate * Decimal("0.005")  # at most half a cent away
    assert cost == (local / rate).quantize(rp.CENT, rounding=ROUND_HALF_UP)


@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4))
def test_order_amounts_are_whole_paisa_and_travel_digit_for_digit(amount):
    if amount > 0 and amount == amount.quantize(rp.CENT):
        exact = rp.pkr_amount(amount)
        text = rp.dumps({"amount": exact})
        assert text == f'{{"amount": {exact:f}}}'
        assert rp.loads(text)["amount"] == amount
    else:
        with pytest.raises(rp.AmountNotAllowed):
            rp.pkr_amount(amount)


@given(st.decimals(min_value=0, max_value=Decimal("1e7"), places=6))
def test_delivered_amounts_are_read_exactly(delivered):
    body = load("topup_successful") | {"deliveredAmount": "__"}
    text = json.dumps(body).replace('"__"', format(delivered, "f"))
    result = rp.recharge_result(rp.parse_topup(rp.loads(text)))
    assert result.delivered_amount == delivered.quantize(rp.CENT, rounding=ROUND_HALF_UP)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.sampled_from(["50", "100", "200", "500"]).map(Decimal), cents))
def test_the_adapter_sends_only_listed_amounts_and_sends_them_exactly(provider, amount):
    cache.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(AUTH, json=load("token"))
        upstream(mock)
        mock.post(TOPUPS, json=load("topup_successful"))
        if amount in {Decimal(a) for a in (50, 100, 200, 500)}:
            recharge(provider, str(amount))
            (sent,) = calls(mock, "POST", TOPUPS)
            assert f'"amount": {amount.quantize(rp.CENT):f}' in sent.request.body
        else:
            with pytest.raises(PermanentProviderError, match="is not a denomination"):
                recharge(provider, str(amount))
            assert not calls(mock, "POST", TOPUPS)


# --- through provisioning --------------------------------------------------------------------


@pytest.fixture
def recharge_order(provider):
    """A customer's paid PKR 500 Zong recharge for NUMBER, sold through Reloadly."""
    zong = Operator.objects.get(code="zong")
    plan = PlanFactory(
        provider=provider,
        operator=zong,
        kind=PlanKind.RECHARGE,
        provider_sku="1702:500",
        name="Zong PKR 500",
        airtime_amount=Decimal("500"),
        data_mb=None,
        validity_days=0,
        cost=Decimal("1.79"),
        cost_currency="USD",
    )
    PlanPriceFactory(plan=plan, currency="PKR", amount=Decimal("520"))
    order = place_recharge(
        plan=plan,
        customer=CustomerFactory(),
        currency="PKR",
        msisdn=NUMBER,
        operator=zong,
    )
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    order.refresh_from_db()
    return order


def for_reference(name: str, reference: str):
    """A recorded answer whose top-up(s) carry ``reference`` as their customIdentifier."""
    data = load(name)
    for topup in data.get("content", [data.get("transaction") or data]):
        topup["customIdentifier"] = reference
    return data


def looked_up(mock, reference: str, *reports: str):
    for report in reports:
        mock.get(
            REPORT,
            json=for_reference(report, reference),
            match=[matchers.query_param_matcher({"customIdentifier": reference})],
        )


def test_a_recharge_order_is_provisioned_through_reloadly(
    provider, rsps, recharge_order, django_capture_on_commit_callbacks
):
    reference = recharge_order.provider_reference
    looked_up(rsps, reference, "transactions_empty")
    rsps.get(DETECT, json=load("operator_zong"))
    rsps.post(TOPUPS, json=for_reference("topup_successful", reference))

    with django_capture_on_commit_callbacks(execute=False):
        assert provisioning.provision_order(recharge_order.pk) == Order.Status.FULFILLED

    [topup] = calls(rsps, "POST", TOPUPS)
    assert json.loads(topup.request.body) == {
        "operatorId": 1702,
        "amount": 500.0,
        "useLocalAmount": True,
        "customIdentifier": reference,
        "recipientPhone": {"countryCode": "PK", "number": WIRE},
    }
    recharge_order.refresh_from_db()
    assert recharge_order.status == Order.Status.FULFILLED
    assert recharge_order.upstream_reference == "48213"  # Reloadly's transactionId
    attempt = recharge_order.provisioning_attempts.get()
    assert (attempt.operation, attempt.outcome, attempt.reference) == (
        "recharge",
        "succeeded",
        reference,
    )
    assert "delivered_amount=500.00" in attempt.response_summary
    assert "currency=PKR" in attempt.response_summary
    assert "operator_reference=2025030109001234" in attempt.response_summary
    assert WIRE not in attempt.request_summary  # the number is masked in the attempt log
    logged = ProviderCall.objects.exclude(operation="token").order_by("id")
    assert list(logged.values_list("operation", "reference", "outcome")) == [
        ("find-topup", reference, "ok"),
        ("detect-operator", reference, "ok"),
        ("topup", reference, "ok"),
    ]


def test_a_processing_recharge_is_fulfilled_by_a_later_run_with_one_topup(
    provider, rsps, recharge_order, django_capture_on_commit_callbacks
):
    reference = recharge_order.provider_reference
    processing = for_reference("transactions_found", reference)
    processing["content"][0] |= {"status": "PROCESSING", "operatorTransactionId": None}
    looked_up(rsps, reference, "transactions_empty")
    rsps.get(
        REPORT,
        json=processing,
        match=[matchers.query_param_matcher({"customIdentifier": reference})],
    )
    rsps.get(DETECT, json=load("operator_zong"))
    rsps.post(TOPUPS, json=for_reference("topup_processing", reference))
    rsps.get(STATUS, json=for_reference("status_successful", reference))

    with pytest.raises(TransientProviderError, match="recharge processing"):
        provisioning.provision_order(recharge_order.pk)
    recharge_order.refresh_from_db()
    assert recharge_order.status == Order.Status.PROVISIONING
    assert recharge_order.upstream_reference == ""
    assert not calls(rsps, "GET", STATUS)

    with django_capture_on_commit_callbacks(execute=False):
        assert provisioning.provision_order(recharge_order.pk) == Order.Status.FULFILLED

    assert len(calls(rsps, "POST", TOPUPS)) == 1
    assert len(calls(rsps, "GET", STATUS)) == 1  # the found top-up is polled, not re-sent
    recharge_order.refresh_from_db()
    assert recharge_order.status == Order.Status.FULFILLED
    assert recharge_order.upstream_reference == "48213"
    first, second = recharge_order.provisioning_attempts.order_by("number")
    assert first.outcome == "transient_error" and "recharge processing" in first.error
    assert second.outcome == "succeeded"
    assert "operator_reference=2025030109001234" in second.response_summary
    assert ProviderCall.objects.filter(operation="topup").count() == 1
