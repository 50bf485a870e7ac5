"""My SIMs (我的套餐) and renewal (续费), through the real URLs."""

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from orders.models import Order, Sim
from orders.site.sim_cards import SimLinks
from plans.models import Operator, Plan, PlanKind, PlanPrice
from tests.clock import EVENING_BEFORE_NEW_YEAR

pytest_plugins = ["tests.site.conftest_sims"]
pytestmark = pytest.mark.django_db

KARACHI = ZoneInfo("Asia/Karachi")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=KARACHI)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def card_for(body: str, text: str) -> str:
    """The HTML of the one SIM card on the page that contains ``text``."""
    cards = [chunk for chunk in body.split('<li class="card')[1:] if text in chunk]
    assert len(cards) == 1, f"{len(cards)} cards contain {text!r}"
    return cards[0].split("</li>")[0]


def my_sims(client, **headers) -> str:
    response = client.get(reverse("sims:list"), headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def test_countdowns_count_the_sites_days_on_the_evening_before_new_year(
    evening_before_new_year, sims_client, sims_make
):
    # 21:30 UTC on 31 December is 02:30 on 1 January in Karachi.
    sims_make(msisdn="+923001110001", expires_at=EVENING_BEFORE_NEW_YEAR + timedelta(hours=20))
    sims_make(msisdn="+923001110002", expires_at=EVENING_BEFORE_NEW_YEAR + timedelta(hours=23))
    sims_make(msisdn="+923001110003", expires_at=EVENING_BEFORE_NEW_YEAR - timedelta(hours=1))
    body = my_sims(sims_client)

    today = card_for(body, "0300 1110001")  # 22:30 on 1 January in Karachi
    assert "expires today" in today and "2027-01-01 22:30" in today
    tomorrow = card_for(body, "0300 1110002")  # 01:30 on 2 January in Karachi
    assert "1 day left" in tomorrow and "2027-01-02 01:30" in tomorrow
    assert "expired today" in card_for(body, "0300 1110003")  # 01:30 on 1 January


def test_badges_countdowns_and_usage(sims_client, sims_make, frozen):
    sims_make(status=Sim.Status.ISSUED, msisdn="+923001110001", expires_at=NOW + timedelta(days=7))
    sims_make(
        msisdn="+923001110002",
        expires_at=NOW + timedelta(days=2),
        data_remaining_mb=2048,
        usage_synced_at=NOW - timedelta(hours=2),
    )
    sims_make(msisdn="+923001110003", expires_at=NOW + timedelta(hours=3))
    sims_make(msisdn="+923001110004", expires_at=NOW + timedelta(days=1))
    sims_make(msisdn="+923001110005", expires_at=NOW - timedelta(days=2))
    sims_make(
        msisdn="+923001110006",
        data_total_mb=None,
        data_remaining_mb=None,
        expires_at=NOW + timedelta(days=30),
    )
    sims_make(status=Sim.Status.REPLACED, msisdn="+923001110007")
    body = my_sims(sims_client)

    ready = card_for(body, "0300 1110001")
    assert 'class="badge issued">Ready to install' in ready
    assert "7 days left" in ready and "Usage not synced yet" in ready
    assert "10 GB left of 10 GB" in ready

    expiring = card_for(body, "0300 1110002")
    assert 'class="badge expiring">Expiring soon' in expiring
    assert "2 days left" in expiring
    assert "8 GB used · 2 GB left of 10 GB" in expiring
    assert '<meter min="0" max="10240" value="2048"' in expiring
    assert "Usage updated 2\xa0hours ago" in expiring

    assert "expires today" in card_for(body, "0300 1110003")
    assert 'class="badge expiring"' in card_for(body, "0300 1110003")
    assert "1 day left" in card_for(body, "0300 1110004")

    expired = card_for(body, "0300 1110005")
    assert 'class="badge expired">Expired' in expired and "expired 2 days ago" in expired

    unlimited = card_for(body, "0300 1110006")
    assert "Unlimited data" in unlimited and "<meter" not in unlimited
    assert 'class="badge active">Active' in unlimited and "30 days left" in unlimited

    replaced = card_for(body, "0300 1110007")
    assert replaced.startswith(' muted"') and 'class="badge replaced">Replaced' in replaced
    assert "/install/" not in replaced and "/renew/" not in replaced
    assert "left of" not in replaced and "days left" not in replaced


def test_each_card_shows_operator_plan_and_expiry_date(sims_client, sims_make, frozen):
    sim = sims_make(msisdn="", expires_at=datetime(2026, 3, 20, 18, 30, tzinfo=KARACHI))
    card = card_for(my_sims(sims_client), sim.iccid[-6:])
    assert f"Jazz · ICCID …{sim.iccid[-6:]}" in card
    assert sim.current_plan.name in card
    assert "2026-03-20 18:30" in card and "10 days left" in card
    assert f'href="/sims/{sim.iccid}/install/"' in card
    assert f'href="/sims/{sim.iccid}/renew/"' in card


def test_physical_sim_is_recharged_not_renewed(sims_client, sims_make):
    sims_make(form=Sim.Form.PHYSICAL, msisdn="+923451234567", activation_code="")
    card = card_for(my_sims(sims_client), "0345 1234567")
    assert "Physical SIM" in card
    assert "/install/" not in card and "/renew/" not in card
    link = re.search(r'href="(/recharge/\?phone=[^"]+)"', card).group(1)
    page = sims_client.get(unescape(link)).content.decode()
    assert 'value="0345 1234567"' in page and "this is a Telenor number" in page


def test_a_physical_card_not_activated_yet_has_nothing_to_install(sims_client, sims_make):
    sims_make(
        form=Sim.Form.PHYSICAL,
        status=Sim.Status.ISSUED,
        msisdn="+923451230000",
        activation_code="",
    )
    card = card_for(my_sims(sims_client), "0345 1230000")
    assert 'class="badge issued">Not activated yet' in card
    assert "Ready to install" not in card and "/install/" not in card


def test_live_sims_come_first_and_replaced_last(sims_client, sims_make):
    sims_make(msisdn="+923001110001")
    sims_make(status=Sim.Status.REPLACED, msisdn="+923001110002")
    sims_make(status=Sim.Status.EXPIRED, msisdn="+923001110003")
    body = my_sims(sims_client)
    order = [body.index(n) for n in ("0300 1110003", "0300 1110001", "0300 1110002")]
    assert order == sorted(order)


def test_only_my_own_sims_are_listed(sims_client, sims_make, sims_other):
    sims_make(msisdn="+923001110001")
    sims_make(msisdn="+923001119999", owner=sims_other)
    body = my_sims(sims_client)
    assert "0300 1110001" in body and "0300 1119999" not in body


def test_no_sims_yet(sims_client):
    assert "You have no SIMs yet." in my_sims(sims_client)


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get(reverse("sims:list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_replacement_link_for_live_sims_only(sims_client, sims_make):
    live = sims_make(msisdn="+923001110001")
    replaced = sims_make(msisdn="+923001110002", status=Sim.Status.REPLACED)
    body = my_sims(sims_client)
    assert f'href="/sims/{live.iccid}/replace/"' in card_for(body, "0300 1110001")
    assert f"/sims/{replaced.iccid}/replace/" not in body


def test_pages_of_fifty(sims_client, sims_make):
    for n in range(60):
        sims_make(msisdn=f"+9230011{n:05d}")
    first = my_sims(sims_client)
    assert first.count('<li class="card') == 50 and "Page 1 of 2" in first
    second = sims_client.get(reverse("sims:list") + "?page=2").content.decode()
    assert second.count('<li class="card') == 10 and 'rel="prev"' in second


@pytest.mark.parametrize(("count", "budget"), [(5, 2), (50, 2), (100, 3)])
def test_query_budget_does_not_grow_with_sims(
    sims_client, sims_make, count, budget, django_assert_max_num_queries, settings
):
    settings.SESSION_ENGINE, settings.CACHE_SHARED = "core.sessions", True  # as with Redis
    for n in range(count):
        sims_make(msisdn=f"+9230022{n:05d}", usage_synced_at=timezone.now())
    my_sims(sims_client)  # the session and the unread count are cached from here on
    # the user and the SIMs; and the SIMs counted when there are more than a page of them
    with django_assert_max_num_queries(budget):
        body = my_sims(sims_client)
    assert body.count('<li class="card') == min(count, 50)


@pytest.mark.parametrize("name", SimLinks.NAMES)
@pytest.mark.parametrize("iccid", ["8992000000001234567", "a b%?é#&"])
def test_card_links_are_what_reverse_gives(name, iccid):
    assert SimLinks().url(name, iccid) == reverse(name, args=[iccid])


def test_card_links_kept_per_process_follow_the_url_prefix_and_language():
    """Kept by prefix and language: a site mounted under a path gets its own links."""
    plain = SimLinks.current().url("sims:install", "8992")
    assert SimLinks.current() is SimLinks.current()
    set_script_prefix("/shop/")
    try:
        assert SimLinks.current().url("sims:install", "8992") == "/shop" + plain
    finally:
        set_script_prefix("/")
    with translation.override("zh-hans"):
        assert SimLinks.current().url("sims:install", "8992") == reverse(
            "sims:install", args=["8992"]
        )
    assert SimLinks.current().url("sims:install", "8992") == plain


def titles(body: str) -> list[str]:
    return [chunk.split("</h2>")[0] for chunk in body.split("<h2>")[1:]]


def test_a_replaced_sim_and_its_replacement_have_distinct_titles(sims_client, sims_make):
    new = sims_make(msisdn="+923001110001")
    sims_make(msisdn="+923001110001", status=Sim.Status.REPLACED, replaced_by=new)
    bare = sims_make(msisdn="")
    old_bare = sims_make(msisdn="", status=Sim.Status.REPLACED, replaced_by=bare)
    tail, bare_tail, old_tail = new.iccid[-6:], bare.iccid[-6:], old_bare.iccid[-6:]
    assert titles(my_sims(sims_client)) == [
        f"Jazz · ICCID …{bare_tail} (new card)",
        f"Jazz · 0300 1110001 (new card …{tail})",
        f"Jazz · ICCID …{old_tail} (replaced)",
        "Jazz · 0300 1110001 (replaced)",
    ]
    assert titles(my_sims(sims_client, **{"accept-language": "zh-hans"})) == [
        f"Jazz · ICCID …{bare_tail}（补卡新卡）",
        f"Jazz · 0300 1110001（补卡新卡 …{tail}）",
        f"Jazz · ICCID …{old_tail}（已补卡停用）",
        "Jazz · 0300 1110001（已补卡停用）",
    ]


def test_chinese_page(sims_client, sims_make, frozen):
    sims_make(msisdn="+923001110001", expires_at=NOW + timedelta(days=2), data_remaining_mb=2048)
    body = my_sims(sims_client, **{"accept-language": "zh-hans"})
    card = card_for(body, "0300 1110001")
    assert "我的套餐" in body and "续费" in card and "剩余 2 GB" in card and "还剩 2 天" in card


# Renewal (续费)


def renewal(code="jazz", **filters):
    return Plan.objects.filter(kind=PlanKind.RENEWAL, operator__code=code, **filters)


def renew_page(client, sim: Sim, query: str = "") -> str:
    response = client.get(reverse("sims:renew", args=[sim.iccid]) + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("code", ["jazz", "zong"])
def test_renew_offers_only_plans_that_fit(sims_client, sims_make, code):
    sim = sims_make(operator=Operator.objects.get(code=code))
    body = renew_page(sims_client, sim, "?currency=PKR")
    offered = set(map(int, re.findall(r'name="plan" value="(\d+)"', body)))
    assert offered and offered == set(renewal(code).values_list("pk", flat=True))
    price = PlanPrice.objects.get(plan=renewal(code).first(), currency="PKR").amount
    assert f"PKR {price:,.2f}" in body


def test_plans_not_priced_in_the_currency_are_hidden(sims_client, sims_make):
    sim = sims_make()
    hidden = renewal().first()
    PlanPrice.objects.filter(plan=hidden, currency="USD").delete()
    body = renew_page(sims_client, sim, "?currency=USD")
    assert f'value="{hidden.pk}"' not in body and "USD " in body
    assert '<strong aria-current="true">USD</strong>' in body and 'href="?currency=CNY"' in body


def test_new_expiry_is_added_to_the_current_one_or_to_now(sims_client, sims_make, frozen):
    week = renewal(validity_days=7).get()
    live = sims_make(expires_at=NOW + timedelta(days=5))
    body = renew_page(sims_client, live)
    assert "2026-03-15 12:00" in body and "2026-03-22 12:00" in body
    expired = sims_make(status=Sim.Status.EXPIRED, expires_at=NOW - timedelta(days=3))
    body = renew_page(sims_client, expired)
    assert "2026-03-17 12:00" in body and "This SIM has expired" in body
    assert week.display_name in body


def test_renewal_paid_through_the_test_gateway_moves_the_expiry(
    sims_client, sims_bought_esim, sims_pay, sims_owner
):
    sim = sims_bought_esim
    before = sim.expires_at
    plan = renewal(validity_days=30).first()
    response = sims_client.post(
        reverse("sims:renew", args=[sim.iccid]), {"plan": plan.pk, "currency": "CNY"}
    )
    order = Order.objects.get(kind=Order.Kind.RENEWAL)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/pay/"
    assert (order.sim, order.plan, order.currency, order.customer) == (sim, plan, "CNY", sims_owner)
    assert order.total == PlanPrice.objects.get(plan=plan, currency="CNY").amount
    order = sims_pay(order)
    assert order.status == Order.Status.FULFILLED
    sim.refresh_from_db()
    assert sim.expires_at == before + timedelta(days=30)


@pytest.mark.parametrize("plan_kind", ["other_operator", "esim_plan", "inactive", "missing"])
def test_a_plan_that_does_not_fit_is_refused(sims_client, sims_make, plan_kind):
    sim = sims_make()
    plans = {
        "other_operator": lambda: renewal("zong").first().pk,
        "esim_plan": lambda: Plan.objects.filter(kind=PlanKind.ESIM).first().pk,
        "inactive": lambda: renewal().filter(pk=_deactivated()).get().pk,
        "missing": lambda: 999_999,
    }
    response = sims_client.post(
        reverse("sims:renew", args=[sim.iccid]), {"plan": plans[plan_kind](), "currency": "PKR"}
    )
    assert response.status_code == 200
    assert "This plan cannot renew this SIM" in response.content.decode()
    assert not Order.objects.exists()


def _deactivated() -> int:
    plan = renewal().first()
    Plan.objects.filter(pk=plan.pk).update(is_active=False)
    return plan.pk


def test_bad_currency_is_refused(sims_client, sims_make):
    sim = sims_make()
    response = sims_client.post(
        reverse("sims:renew", args=[sim.iccid]), {"plan": renewal().first().pk, "currency": "EUR"}
    )
    assert response.status_code == 200 and not Order.objects.exists()


def test_renew_someone_elses_sim_is_not_found(sims_client, sims_make, sims_other):
    sim = sims_make(owner=sims_other)
    url = reverse("sims:renew", args=[sim.iccid])
    assert sims_client.get(url).status_code == 404
    response = sims_client.post(url, {"plan": renewal().first().pk, "currency": "PKR"})
    assert response.status_code == 404 and not Order.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Sim.Status.REPLACED},
        {"status": Sim.Status.CANCELLED},
        {"form": Sim.Form.PHYSICAL, "activation_code": ""},
    ],
)
def test_sims_that_cannot_be_renewed(sims_client, sims_make, fields):
    sim = sims_make(**fields)
    url = reverse("sims:renew", args=[sim.iccid])
    assert sims_client.get(url).status_code == 404
    assert (
        sims_client.post(url, {"plan": renewal().first().pk, "currency": "PKR"}).status_code == 404
    )
    assert not Order.objects.exists()


def test_renew_needs_login(client, sims_make):
    sim = sims_make()
    response = client.get(reverse("sims:renew", args=[sim.iccid]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
