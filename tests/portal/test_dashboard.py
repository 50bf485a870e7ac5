"""The staff dashboard on the admin index: its figures, who sees it, and its query budget."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import ADMINISTRATORS, CATALOG_MANAGERS, SUPPORT, sync_staff_roles
from orders.models import Order
from plans.models import Plan
from portal.dashboard import build_dashboard
from portal.dashboard.charts import bar_chart, line_chart
from portal.dashboard.page import format_duration
from portal.dashboard.percentiles import nearest_rank, percentiles
from tests.clock import EVENING_BEFORE_NEW_YEAR
from tests.factories import PlanFactory, UserFactory
from tests.portal.dashboard_data import NOW, add_noise, build_week, paid_order
from tests.staff import login_staff

pytestmark = pytest.mark.django_db
QUERY_BUDGET = 20  # the index's own (session, user, permissions, recent actions) + the dashboard


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def week():
    return build_week()


def staff_in(client, role: str):
    """A signed-in member of staff holding one role."""
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[role])
    return login_staff(client, user)


def test_today_is_the_sites_day_on_the_evening_before_new_year():
    plan = PlanFactory(cost=Decimal("1"), cost_currency="PKR")
    with time_machine.travel(EVENING_BEFORE_NEW_YEAR, tick=False):
        paid_order(plan, "PKR", 70, EVENING_BEFORE_NEW_YEAR - timedelta(hours=2))  # 00:30 1 Jan
        paid_order(plan, "PKR", 30, EVENING_BEFORE_NEW_YEAR - timedelta(hours=3))  # 23:30 31 Dec
        sales = build_dashboard().sales
    assert [(t.currency, t.orders, t.gross) for t in sales.today] == [("PKR", 1, Decimal(70))]
    assert [(d.day, d.orders) for d in sales.days][-2:] == [
        (date(2026, 12, 31), 1),
        (date(2027, 1, 1), 1),
    ]


def test_sales_by_currency_today_and_over_the_week(week):
    sales = build_dashboard().sales
    today = {t.currency: (t.orders, t.gross, t.refunded, t.net) for t in sales.today}
    assert today == {
        "CNY": (1, Decimal(30), 0, Decimal(30)),
        "PKR": (1, Decimal(1000), Decimal(200), Decimal(800)),
    }
    week_totals = {t.currency: (t.orders, t.gross, t.refunded, t.net) for t in sales.week}
    assert week_totals == {
        "CNY": (2, Decimal(55), 0, Decimal(55)),
        "PKR": (3, Decimal(2200), Decimal(200), Decimal(2000)),
    }
    assert [(d.day, d.orders, d.net) for d in sales.days] == [
        (date(2026, 3, 4), 0, {}),
        (date(2026, 3, 5), 0, {}),
        (date(2026, 3, 6), 0, {}),
        (date(2026, 3, 7), 1, {"PKR": Decimal(500)}),
        (date(2026, 3, 8), 1, {"CNY": Decimal(25)}),
        (date(2026, 3, 9), 1, {"PKR": Decimal(700)}),
        (date(2026, 3, 10), 2, {"CNY": Decimal(30), "PKR": Decimal(800)}),
    ]


WEEK_MARGINS = {
    # Delivered: 1000 - 200 refunded at cost 400, and 2 × 400 for 500.
    "PKR": (2, Decimal(1300), Decimal(1200), Decimal(100), Decimal("7.7")),
    "CNY": (1, Decimal(30), Decimal(10), Decimal(20), Decimal("66.7")),
}


def margins_of(sales) -> dict:
    return {m.currency: (m.orders, m.retail, m.cost, m.margin, m.percent) for m in sales.margins}


def test_margin_uses_the_order_cost_where_currencies_match(week):
    sales = build_dashboard().sales
    assert margins_of(sales) == WEEK_MARGINS
    assert [(m.currency, m.orders, m.retail) for m in sales.not_comparable] == [
        ("CNY", 1, Decimal(25))
    ]


def test_a_later_plan_cost_change_leaves_past_margins_alone(week):
    # A catalog sync reprices both plans and moves the yuan plan's cost to dollars.
    Plan.objects.filter(pk=week["rupee_plan"].pk).update(cost=Decimal(900))
    Plan.objects.filter(pk=week["yuan_plan"].pk).update(cost=Decimal(2), cost_currency="USD")
    sales = build_dashboard().sales
    assert margins_of(sales) == WEEK_MARGINS
    assert [(m.currency, m.orders) for m in sales.not_comparable] == [("CNY", 1)]


def test_orders_without_a_cost_snapshot_are_not_comparable(week):
    Order.objects.filter(total=Decimal(500)).update(cost=None, cost_currency="")
    sales = build_dashboard().sales
    pkr = next(m for m in sales.margins if m.currency == "PKR")
    assert (pkr.orders, pkr.retail, pkr.cost) == (1, Decimal(800), Decimal(400))
    assert {(m.currency, m.orders, m.retail) for m in sales.not_comparable} == {
        ("CNY", 1, Decimal(25)),
        ("PKR", 1, Decimal(500)),
    }


def test_fulfilment_percentiles_over_the_week(week):
    fulfilment = build_dashboard().fulfilment
    assert (fulfilment.count, fulfilment.p50, fulfilment.p95) == (
        4,
        timedelta(seconds=120),
        timedelta(seconds=240),
    )


def test_fulfilment_percentiles_of_twenty_orders():
    plan = PlanFactory()
    for minutes in [7, 3, 20, 1, 15, 9, 12, 4, 18, 6, 2, 11, 19, 5, 14, 8, 17, 10, 16, 13]:
        paid_order(plan, "PKR", 100, NOW - timedelta(hours=minutes), seconds=minutes * 60)
    fulfilment = build_dashboard().fulfilment
    assert fulfilment.p50 == timedelta(minutes=10) and fulfilment.p95 == timedelta(minutes=19)


def test_nearest_rank_percentiles_per_partition(week):
    from plans.models import ProviderCall

    assert [nearest_rank(95, n) for n in (1, 2, 19, 20, 21)] == [1, 2, 19, 19, 20]
    ranked = percentiles(ProviderCall.objects.all(), "latency_ms", (50, 95), "provider_id")
    airalo = ranked[week["airalo"].pk]
    assert (airalo.count, airalo.values) == (6, {50: 200, 95: 9999})


def test_provider_failures_and_latency(week):
    rows = {
        p.name: (
            (p.attempts_day.failed, p.attempts_day.total),
            (p.attempts_week.failed, p.attempts_week.total),
            (p.calls_day.failed, p.calls_day.total),
            (p.calls_week.failed, p.calls_week.total),
            p.p95_day_ms,
            p.p95_week_ms,
        )
        for p in build_dashboard().providers
    }
    assert rows == {
        "Sandbox": ((1, 2), (2, 4), (0, 0), (0, 0), None, None),
        "Airalo": ((0, 0), (0, 1), (1, 3), (2, 5), 300, 1000),
    }
    sandbox = next(p for p in build_dashboard().providers if p.name == "Sandbox")
    assert sandbox.attempts_week.percent == Decimal("50.0") and sandbox.calls_day.percent is None


def test_identity_queue_partners_and_problems(week):
    dashboard = build_dashboard()
    identity = dashboard.identity
    assert (identity.waiting, identity.age, identity.level) == (2, timedelta(hours=30), "due")
    assert [(p.name, p.currency, p.balance, p.threshold) for p in dashboard.low_balances] == [
        ("Karachi Travel", "USD", Decimal(800), Decimal(1000)),
        ("Empty Shop", "PKR", Decimal(0), Decimal(50)),
    ]
    assert {p.key: p.count for p in dashboard.problems} == {
        "needs_attention": 1,
        "stuck_paid": 1,
        "manual_payment": 1,
        "staff_refund": 0,
    }


def test_an_empty_dashboard():
    dashboard = build_dashboard()
    assert dashboard.sales.week == [] and len(dashboard.sales.days) == 7
    assert dashboard.fulfilment.p50 is None and dashboard.providers == []
    assert dashboard.identity.waiting == 0 and dashboard.identity.level == "ok"


def test_charts_are_inline_svg_with_titles():
    svg = bar_chart("Orders <per> day", ["03-09", "03-10"], [1, 3])
    assert svg.startswith('<svg class="dash-chart" role="img"')
    assert "<title>Orders &lt;per&gt; day</title>" in svg
    assert "<desc>03-09: 1; 03-10: 3</desc>" in svg and "<title>03-10: 3</title>" in svg
    line = line_chart("Revenue", ["a", "b"], [Decimal(0), Decimal("2.5")], lambda v: f"PKR {v}")
    assert "<polyline" in line and "<title>b: PKR 2.5</title>" in line
    assert "<script" not in svg + line


def test_durations_read_naturally():
    assert [
        format_duration(timedelta(seconds=s)) for s in (45, 125, 3 * 3600 + 1200, 2 * 86400 + 7200)
    ] == ["45 s", "2 min 5 s", "3 h 20 min", "2 d 2 h"]
    assert format_duration(None) == "—"


def test_admin_index_shows_the_dashboard(client, week):
    staff_in(client, ADMINISTRATORS)
    response = client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="staff-dashboard"' in body and body.index("staff-dashboard") < body.index(
        'id="content-main"'
    )
    # Orders per day, revenue per day in CNY and in PKR (the admin has SVG icons of its own).
    assert body.count('<svg class="dash-chart" role="img"') == 3
    for figure in ["2,200.00", "2,000.00", "1,300.00", "Karachi Travel", "800.00", "1000 ms"]:
        assert figure in body
    assert "?problem=needs_attention" in body and "status__exact=pending" in body
    assert "portal/admin_dashboard.css" in body


def test_every_dashboard_link_opens(client, week):
    staff_in(client, ADMINISTRATORS)
    body = client.get("/admin/").content.decode()
    section = body[body.index("staff-dashboard") : body.index('id="content-main"')]
    links = {href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', section)}
    assert len(links) >= 10
    for link in links:
        assert client.get(link).status_code == 200, link


def test_support_sees_the_dashboard_without_links_it_cannot_follow(client, week):
    staff_in(client, SUPPORT)
    body = client.get("/admin/").content.decode()
    assert 'class="staff-dashboard"' in body and "Karachi Travel" in body
    assert "/admin/accounts/partner/" not in body and "status__exact=pending" not in body
    assert "?problem=needs_attention" in body


def test_catalog_manager_sees_the_normal_index(client, week):
    staff_in(client, CATALOG_MANAGERS)
    response = client.get("/admin/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "staff-dashboard" not in body and "dash-chart" not in body
    assert "admin_dashboard.css" not in body


def test_index_queries_do_not_grow_with_data(client, week, django_assert_max_num_queries):
    staff_in(client, ADMINISTRATORS)
    client.get("/admin/")  # warm the session and permission caches like any later visit
    with CaptureQueriesContext(connection) as small:
        client.get("/admin/")
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get("/admin/")
    add_noise(40)
    with CaptureQueriesContext(connection) as large:
        response = client.get("/admin/")
    assert response.status_code == 200
    with django_assert_max_num_queries(QUERY_BUDGET):
        client.get("/admin/")
    assert len(large) == len(small)


def test_dashboard_in_chinese(client, week):
    staff_in(client, ADMINISTRATORS)
    body = client.get("/admin/", headers={"accept-language": "zh-CN,zh;q=0.9"}).content.decode()
    assert (
        "每日已支付订单" in body and "余额低于提醒阈值的合作伙伴" in body and "30 小时" not in body
    )
    assert "1 天 6 小时" in body  # the oldest identity check's wait
