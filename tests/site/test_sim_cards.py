"""My SIMs' cards come from a per-process cache keyed by everything a card shows: any change to
a SIM, its operator or plan, the clock, the language or the links shows on the next page."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.models import Sim
from orders.site import sim_cards
from plans.models import Operator, Plan
from tests.factories import make_iccid

pytest_plugins = ["tests.site.conftest_sims"]
pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Karachi"))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def the_card(client, language="en") -> str:
    response = client.get(reverse("sims:list"), headers={"accept-language": language})
    body = response.content.decode()
    assert body.count('<li class="card') == 1
    return body.split('<li class="card')[1].split("</li>")[0]


def plan_of(sim):
    return Plan.objects.filter(pk=sim.current_plan_id)


CHANGES = {
    "msisdn": lambda sim: Sim.objects.filter(pk=sim.pk).update(msisdn="+923009998877"),
    "status": lambda sim: Sim.objects.filter(pk=sim.pk).update(status=Sim.Status.REPLACED),
    "data left": lambda sim: Sim.objects.filter(pk=sim.pk).update(data_remaining_mb=1024),
    "data total": lambda sim: Sim.objects.filter(pk=sim.pk).update(data_total_mb=20480),
    "expiry": lambda sim: Sim.objects.filter(pk=sim.pk).update(expires_at=NOW + timedelta(days=9)),
    "usage synced": lambda sim: Sim.objects.filter(pk=sim.pk).update(usage_synced_at=NOW),
    "form": lambda sim: Sim.objects.filter(pk=sim.pk).update(form=Sim.Form.PHYSICAL),
    "operator": lambda sim: Operator.objects.filter(pk=sim.operator_id).update(name="Jazz 4G"),
    "plan": lambda sim: plan_of(sim).update(name="Renamed plan"),
    "plan replaced": lambda sim: Sim.objects.filter(pk=sim.pk).update(current_plan=None),
    "replaces": lambda sim: Sim.objects.create(
        iccid=make_iccid(999_999), operator_id=sim.operator_id, replaced_by=sim, status="replaced"
    ),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_column_a_card_shows_changes_it(change, sims_client, sims_make, frozen):
    sim = sims_make(msisdn="+923001110001", expires_at=NOW + timedelta(days=5))
    before = the_card(sims_client)
    assert the_card(sims_client) == before
    change(sim)
    after = the_card(sims_client)
    assert after != before
    sim_cards._cards.clear()
    assert the_card(sims_client) == after


def test_chinese_plan_name_changes_the_chinese_card(sims_client, sims_make, frozen):
    sim = sims_make(msisdn="+923001110001")
    english, chinese = the_card(sims_client), the_card(sims_client, "zh-hans")
    assert english != chinese and "续费" in chinese
    plan_of(sim).update(name_zh="新套餐名")
    assert "新套餐名" in the_card(sims_client, "zh-hans")
    assert the_card(sims_client) == english


@pytest.mark.parametrize(
    ("later", "shown"),
    [
        (timedelta(hours=1), "Usage updated 1\xa0hour ago"),
        (timedelta(days=1), "4 days left"),
        (timedelta(days=3), 'class="badge expiring"'),
        (timedelta(days=6), 'class="badge expired"'),
    ],
)
def test_the_clock_moves_the_card(later, shown, sims_client, sims_make, frozen):
    sims_make(
        msisdn="+923001110001", expires_at=NOW + timedelta(days=5, hours=6), usage_synced_at=NOW
    )
    before = the_card(sims_client)
    assert shown not in before
    frozen.move_to(NOW + later, tick=False)
    assert shown in the_card(sims_client)


def test_a_cached_card_is_the_card_rendered_afresh(sims_owner, sims_make, frozen):
    sims_make(msisdn="+923001110001", usage_synced_at=NOW - timedelta(minutes=5))
    sims_make(status=Sim.Status.CANCELLED, msisdn="", current_plan=None)
    sims_make(form=Sim.Form.PHYSICAL, msisdn="+923451234567", data_remaining_mb=None)
    rows = Sim.objects.filter(owner=sims_owner).values_list(*sim_cards.LIST_FIELDS)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            page = sim_cards.CardPage()
            for row in rows:
                fresh = get_template("orders/site/sim_card.html").render(
                    {"row": sim_cards.sim_card(row, page)}
                )
                assert sim_cards.card_html(row, page) == fresh
                assert sim_cards.card_html(row, page) == fresh


UTC = ZoneInfo("UTC")


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    synced=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    gap=st.timedeltas(timedelta(minutes=-5), timedelta(days=800)),
    months=st.integers(0, 30),
    step=st.timedeltas(timedelta(seconds=-90), timedelta(seconds=90)),
)
@example(
    synced=datetime(2026, 1, 15, 10, 0, 0, 500_000, tzinfo=UTC),
    gap=timedelta(0),
    months=1,
    step=timedelta(microseconds=-400_000),
)
def test_the_usage_age_decides_the_usage_text(synced, gap, months, step):
    """Two clocks with the same ``usage_age`` show the same text, also around the months' turns
    (``now`` on ``synced``'s day and time some months later)."""
    year, month = divmod(synced.month - 1 + months, 12)
    try:
        turn = synced.replace(year=synced.year + year, month=month + 1)
    except ValueError:  # no such day in that month
        turn = synced + gap
    with translation.override("en"):
        for now in (synced + gap, turn):
            later = now + step
            if sim_cards.usage_age(synced, now) == sim_cards.usage_age(synced, later):
                assert sim_cards.usage_synced(synced, now) == sim_cards.usage_synced(synced, later)
