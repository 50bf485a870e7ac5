"""The catalog page's section (filters, cards, pages) from the cache: rendered once per catalog
version, currency, language and query string, never anyone's own, every change seen at once."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from plans.models import Plan, PlanPrice
from plans.services import catalog_version, prices

pytestmark = pytest.mark.django_db
CATALOG = "/plans/"
VISITOR_BUDGET = 0  # a visitor without a session: nothing but the cache
# the session, the user, the unread count and the remembered currency saved (in a savepoint)
CUSTOMER_BUDGET = 6


def catalog_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "plans_" in query["sql"]]


def section(response) -> str:
    """The page's main part (the header around it is the visitor's own)."""
    body = response.content.decode()
    return body[body.index('<main id="main">') : body.index("</main>")]


def test_a_cached_section_costs_no_catalog_query(client, catalog, django_assert_max_num_queries):
    first = client.get(CATALOG, {"operator": "jazz"})
    with django_assert_max_num_queries(VISITOR_BUDGET) as captured:
        again = client.get(CATALOG, {"operator": "jazz"})
    assert not catalog_queries(captured)
    assert section(again) == section(first) and "Jazz Weekly 10 GB" in section(again)


def test_visitors_and_customers_share_the_section_with_their_own_header(
    shopper, catalog, django_assert_max_num_queries
):
    visitor = Client()
    seen = visitor.get(CATALOG, {"currency": "PKR"})
    with django_assert_max_num_queries(CUSTOMER_BUDGET) as captured:
        signed_in = shopper.get(CATALOG, {"currency": "PKR"})
    assert not catalog_queries(captured)
    assert section(signed_in) == section(seen)
    assert "My SIMs" in signed_in.content.decode() and "My SIMs" not in seen.content.decode()
    assert "Log in" in seen.content.decode()


def test_sections_differ_by_query_currency_and_language(client, catalog):
    jazz = section(client.get(CATALOG, {"operator": "jazz"}))
    zong = section(client.get(CATALOG, {"operator": "zong"}))
    assert "Jazz Weekly 10 GB" in jazz and "Jazz Weekly 10 GB" not in zong
    client.get(CATALOG, {"currency": "USD"})  # remembered in the session
    in_usd = section(client.get(CATALOG, {"operator": "jazz"}))
    assert "USD 2.99" in in_usd and in_usd != jazz
    chinese = client.get(CATALOG, {"operator": "jazz"}, headers={"accept-language": "zh-hans"})
    assert "Jazz 周包 10GB" in section(chinese)


def change_price(plan):
    price = PlanPrice.objects.get(plan=plan, currency="PKR")
    price.amount = Decimal("600")
    prices.save_plan_price(price=price, actor=None, changed_fields=["amount"])


def deactivate(plan):
    plan.is_active = False
    plan.save()


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [(change_price, "PKR 563.00", "PKR 600.00"), (deactivate, "Jazz Weekly 10 GB", None)],
)
def test_each_catalog_change_shows_on_the_very_next_request(client, catalog, change, before, after):
    weekly = Plan.objects.get(provider_sku="jazz-esim-week-10gb")
    query = {"currency": "PKR", "operator": "jazz", "period": "weekly"}
    assert before in client.get(CATALOG, query).content.decode()
    change(weekly)
    body = client.get(CATALOG, query).content.decode()
    assert before not in body and (after is None or after in body)


def test_the_catalog_renders_without_a_cache(client, catalog, settings, caplog):
    settings.CACHES = {  # a Redis that refuses every connection
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(CATALOG, {"operator": "jazz"})
    assert response.status_code == 200 and "Jazz Weekly 10 GB" in response.content.decode()
    assert "Catalog version not read" in caplog.text


@pytest.mark.services
def test_a_change_made_through_another_cache_client_shows_at_once(client, catalog, settings):
    """Two processes share the version through Redis: a write in one retires the other's section."""
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    other = RedisCache(settings.CACHES["default"]["LOCATION"], {})
    weekly = Plan.objects.get(provider_sku="jazz-esim-week-10gb")
    query = {"currency": "PKR", "operator": "jazz", "period": "weekly"}
    assert "PKR 563.00" in client.get(CATALOG, query).content.decode()
    with mock.patch.object(catalog_version, "cache", other):
        change_price(weekly)
    assert "PKR 600.00" in client.get(CATALOG, query).content.decode()
    other.clear()  # a flushed Redis: no section of the old version survives
    assert "PKR 600.00" in client.get(CATALOG, query).content.decode()


def test_parameters_the_catalog_does_not_read_share_one_section(
    client, catalog, django_assert_max_num_queries
):
    """A campaign tag or any other unknown parameter makes no section of its own (the cache
    cannot be filled with copies) and is not carried into the page's links; the catalog's own
    parameters, in any order, share one section."""
    first = client.get(CATALOG, {"operator": "jazz", "page": "1", "utm_source": "wechat"})
    assert "utm_source" not in section(first) and "Jazz Weekly 10 GB" in section(first)
    for other in ({"utm_source": "weibo"}, {"x": "1"}, {}):
        with django_assert_max_num_queries(VISITOR_BUDGET) as captured:
            again = client.get(CATALOG, {"page": "1", **other, "operator": "jazz"})
        assert not catalog_queries(captured)
        assert section(again) == section(first)
    zong = client.get(CATALOG, {"operator": "zong", "utm_source": "wechat"})
    assert "Jazz Weekly 10 GB" not in section(zong)
