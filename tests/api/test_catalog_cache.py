"""The partner catalog served from its version: 304s and cached 200s without a catalog query,
and every catalog change seen on the very next request."""

from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import PriceTier
from core.money import Currency
from plans.models import Operator, PartnerPriceRule, PlanPrice, Promotion
from plans.services import catalog_memo, catalog_version, prices
from tests.processes import manage, service_env

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
AUTH_ONLY_BUDGET = 2  # authentication: the key or its partner, the last-used stamp


def catalog_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "plans_" in query["sql"]]


def test_a_304_and_a_cached_200_cost_no_catalog_query(api_client, django_assert_max_num_queries):
    first = api_client.get(PLANS, {"page_size": 20})
    with django_assert_max_num_queries(AUTH_ONLY_BUDGET) as captured:
        again = api_client.get(PLANS, {"page_size": 20}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and not catalog_queries(captured) and not again.content
    for header in ("ETag", "Cache-Control", "Vary"):
        assert again[header] == first[header]
    with django_assert_max_num_queries(AUTH_ONLY_BUDGET) as captured:
        cached = api_client.get(PLANS, {"page_size": 20})
    assert cached.status_code == 200 and not catalog_queries(captured)
    assert cached.content == first.content
    for header in ("ETag", "Content-Type", "Cache-Control", "Vary", "Allow"):
        assert cached[header] == first[header]


def test_a_304_and_a_cached_200_run_no_query_at_all(api_client, django_assert_num_queries):
    """The key's record holds the partner's tier and currency: nothing is read from the database
    (the clock stands still: the key's last use is stamped once a minute)."""
    with time_machine.travel(timezone.now(), tick=False):
        first = api_client.get(PLANS, {"page_size": 20})
        with django_assert_num_queries(0):
            again = api_client.get(PLANS, {"page_size": 20}, HTTP_IF_NONE_MATCH=first["ETag"])
            cached = api_client.get(PLANS, {"page_size": 20})
    assert again.status_code == 304 and cached.content == first.content


def test_another_process_serves_the_answer_this_one_rendered(
    api_client, django_assert_max_num_queries, monkeypatch
):
    """Answers are kept in the process (plans.services.catalog_memo) and in the shared cache:
    a process that has not rendered an answer reads it from there."""
    first = api_client.get(PLANS, {"page_size": 20})
    monkeypatch.setattr(catalog_memo, "_memo", catalog_memo._Memo())  # another process's memo
    with django_assert_max_num_queries(AUTH_ONLY_BUDGET) as captured:
        cached = api_client.get(PLANS, {"page_size": 20})
    assert cached.content == first.content and not catalog_queries(captured)
    assert catalog_memo.recalled(catalog_version.current(), _kept_key()) == (
        first.content,
        first["Content-Type"],
    )


def _kept_key() -> str:
    (key,) = catalog_memo._memo.rows
    return key


def test_one_plan_is_cached_too(api_client, plan_by_sku, django_assert_max_num_queries):
    url = f"{PLANS}{plan_by_sku('jazz-esim-week-10gb').pk}/"
    first = api_client.get(url)
    with django_assert_max_num_queries(AUTH_ONLY_BUDGET) as captured:
        assert api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert api_client.get(url).content == first.content
    assert not catalog_queries(captured)


def test_answers_differ_by_page_and_errors_are_not_cached(api_client):
    first = api_client.get(PLANS, {"page_size": 5})
    following = api_client.get(first.json()["next"])
    assert following.status_code == 200 and following["ETag"] != first["ETag"]
    assert following.json()["results"] != first.json()["results"]
    assert api_client.get(PLANS, {"kind": "pizza"}).status_code == 400
    assert api_client.get(PLANS, {"kind": "pizza"}).status_code == 400
    assert api_client.get(f"{PLANS}999999/", HTTP_IF_NONE_MATCH="*").status_code == 404
    assert api_client.get(PLANS, HTTP_IF_NONE_MATCH="*").status_code == 304


def test_partners_of_other_tiers_get_their_own_prices_and_etags(
    api_client, other_partner_client, plan_by_sku
):
    weekly = plan_by_sku("jazz-esim-week-10gb").pk
    silver, standard = api_client.get(PLANS), other_partner_client.get(PLANS)
    assert silver["ETag"] != standard["ETag"] and silver.content != standard.content
    amounts = [
        next(row for row in r.json()["results"] if row["id"] == weekly)["price"]["amount"]
        for r in (silver, standard, api_client.get(PLANS), other_partner_client.get(PLANS))
    ]
    assert amounts == ["517.96", "534.85", "517.96", "534.85"]  # silver 8 %, standard 5 % off 563
    assert other_partner_client.get(PLANS, HTTP_IF_NONE_MATCH=silver["ETag"]).status_code == 200


def change_price(plan_by_sku, partner):
    price = PlanPrice.objects.get(plan=plan_by_sku("jazz-esim-week-10gb"), currency="PKR")
    price.amount = Decimal("600")
    prices.save_plan_price(price=price, actor=None, changed_fields=["amount"])


def deactivate_plan(plan_by_sku, partner):
    plan = plan_by_sku("jazz-esim-week-10gb")
    plan.is_active = False
    plan.save()


def add_rule(plan_by_sku, partner):
    rule = PartnerPriceRule(tier=partner.tier, plan=plan_by_sku("jazz-esim-week-10gb"))
    rule.discount_percent = Decimal("30")
    prices.save_price_rule(rule=rule, actor=None)


def delete_rules(plan_by_sku, partner):
    prices.delete_price_rules(rules=PartnerPriceRule.objects.filter(tier=partner.tier), actor=None)


def change_tier(plan_by_sku, partner):
    partner.tier = PriceTier.GOLD
    partner.save(update_fields=["tier"])


def rename_operator(plan_by_sku, partner):
    operator = Operator.objects.get(code="jazz")
    operator.name = "Jazz 4G"
    operator.save()


def add_promotion(plan_by_sku, partner):
    promotion = Promotion(code="EID", percent_off=Decimal("10"), starts_at=timezone.now())
    prices.save_promotion(promotion=promotion, actor=None)


@pytest.mark.parametrize(
    "change",
    [change_price, deactivate_plan, add_rule, delete_rules, change_tier, rename_operator],
)
def test_each_change_shows_on_the_very_next_request(api_client, api_partner, plan_by_sku, change):
    before = api_client.get(PLANS, {"page_size": 200})
    change(plan_by_sku, api_partner)
    after = api_client.get(PLANS, {"page_size": 200}, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"] and after.content != before.content


def test_a_promotion_changes_the_etag(api_client, api_partner, plan_by_sku):
    before = api_client.get(PLANS)
    add_promotion(plan_by_sku, api_partner)
    assert api_client.get(PLANS, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_the_version_is_replaced_again_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        catalog_version.bump()
        during = catalog_version.current()
    assert len(callbacks) == 1
    callbacks[0]()
    assert catalog_version.current() != during


def test_a_lost_version_never_comes_back(api_client):
    first = api_client.get(PLANS)
    cache.clear()
    assert api_client.get(PLANS, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_catalog_answers_without_a_cache(api_client, settings, caplog):
    settings.CACHES = {  # a Redis that refuses every connection
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = api_client.get(PLANS)
    assert response.status_code == 200 and response.json()["results"]
    assert "ETag" not in response
    assert "Catalog version not read" in caplog.text
    PlanPrice.objects.filter(currency=Currency.USD).first().save()  # the write still succeeds
    assert "Catalog version not replaced" in caplog.text


@pytest.mark.services
def test_a_304_and_a_cached_200_cost_one_round_trip_to_redis_each(api_client, redis_round_trips):
    """The catalog version is read with the API key (core/api/gate.py); a 200's body is kept in
    the process."""
    first = api_client.get(PLANS, {"page_size": 20})
    sent = redis_round_trips
    with time_machine.travel(timezone.now(), tick=False):
        api_client.get(PLANS, {"page_size": 20})  # the key's last use stamped this minute
        sent.clear()
        with CaptureQueriesContext(connection) as queries:
            again = api_client.get(PLANS, {"page_size": 20}, HTTP_IF_NONE_MATCH=first["ETag"])
            assert again.status_code == 304 and len(sent) == 1
            cached = api_client.get(PLANS, {"page_size": 20})
            assert cached.content == first.content and len(sent) == 2
    assert len(queries) == 0


@pytest.mark.services
def test_a_change_made_through_another_cache_client_shows_at_once(
    api_client, api_partner, plan_by_sku, settings
):
    """Two processes share the version through Redis: a write in one retires the other's answers."""
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    other = RedisCache(settings.CACHES["default"]["LOCATION"], {})
    before = api_client.get(PLANS, {"page_size": 200})
    with mock.patch.object(catalog_version, "cache", other):
        change_price(plan_by_sku, api_partner)
    after = api_client.get(PLANS, {"page_size": 200}, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.content != before.content
    assert other.get(catalog_version.KEY) == catalog_version.current()
    other.clear()  # a flushed Redis: no answer of the old version survives
    assert (
        api_client.get(PLANS, {"page_size": 200}, HTTP_IF_NONE_MATCH=after["ETag"]).status_code
        == 200
    )


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_tier_change_in_another_process_reaches_the_next_request(
    api_client, api_partner, tmp_path
):
    before = api_client.get(PLANS, {"page_size": 200})
    assert (
        api_client.get(PLANS, {"page_size": 200}, HTTP_IF_NONE_MATCH=before["ETag"]).status_code
        == 304
    )
    change = (
        "from accounts.models import Partner; "
        f"partner = Partner.objects.get(pk={api_partner.pk}); "
        f"partner.tier = '{PriceTier.GOLD}'; partner.save(update_fields=['tier'])"
    )
    done = manage("shell", "-c", change, env=service_env(tmp_path))
    assert done.returncode == 0, done.stderr
    after = api_client.get(PLANS, {"page_size": 200}, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.content != before.content
