"""Usage sync: batches, the per-provider rate limit, readings over time and status changes, and
runs that overlap (a second beat, a slow run overlapping the next): each SIM is read once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import connection

from orders import tasks
from orders.models import Sim
from orders.services.usage import due_sims, sync_usage
from plans.models import SandboxOrder
from plans.providers import get_adapter
from plans.providers.base import PermanentProviderError, TransientProviderError
from plans.providers.sandbox import SandboxAdapter
from tests.factories import PlanFactory, SimFactory

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TOTAL_MB = 10240  # PlanFactory: 10 GB for 7 days; the sandbox uses 50 MB an hour


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan(db):
    return PlanFactory()


def issue_sims(plan, count: int, **fields) -> list[Sim]:
    """SIMs issued through the sandbox, so the upstream knows them."""
    adapter = get_adapter(plan.provider)
    sims = []
    for n in range(count):
        issued = adapter.issue_esim(reference=f"usage-{plan.pk}-{n}", plan_sku=plan.provider_sku)
        values = {
            "iccid": issued.iccid,
            "operator": plan.operator,
            "provider": plan.provider,
            "data_total_mb": issued.data_total_mb,
            "data_remaining_mb": issued.data_total_mb,
            "expires_at": issued.expires_at,
        }
        sims.append(SimFactory(**{**values, **fields}))
    return sims


def test_batches_reach_every_due_sim(clock, plan):
    sims = issue_sims(plan, 10)
    clock.shift(timedelta(hours=2))

    assert sync_usage(batch_size=3) == {"synced": 10, "deferred": 0, "errors": 0}

    for sim in sims:
        sim.refresh_from_db()
        assert sim.usage_synced_at == START + timedelta(hours=2)
        assert sim.data_remaining_mb == TOTAL_MB - 100
        assert sim.status == Sim.Status.ACTIVE
    assert not due_sims(START + timedelta(hours=2)).exists()


@pytest.mark.parametrize("count", [3, 10])
def test_query_count_per_batch_is_constant(
    count, clock, plan, monkeypatch, django_assert_max_num_queries
):
    sims = issue_sims(plan, count, status=Sim.Status.ACTIVE)
    clock.shift(timedelta(hours=1))
    adapter = get_adapter(plan.provider)
    readings = {sim.iccid: adapter.read_usage(iccid=sim.iccid) for sim in sims}
    monkeypatch.setattr(SandboxAdapter, "read_usage", lambda self, *, iccid: readings[iccid])
    batches = -(-count // 3)

    # per batch: claim + select, then savepoint + lock + bulk update + release; one empty claim
    # at the end
    with django_assert_max_num_queries(6 * batches + 1):
        assert sync_usage(batch_size=3)["synced"] == count


def test_rate_limit_defers_the_rest_to_the_next_minute(clock, plan, settings):
    settings.USAGE_SYNC_RATE_PER_MINUTE = 4
    issue_sims(plan, 10)
    clock.shift(timedelta(hours=1))

    assert sync_usage(batch_size=3) == {"synced": 4, "deferred": 6, "errors": 0}
    assert sync_usage(batch_size=3) == {"synced": 0, "deferred": 6, "errors": 0}

    clock.shift(timedelta(minutes=1))
    assert sync_usage(batch_size=3) == {"synced": 4, "deferred": 2, "errors": 0}
    clock.shift(timedelta(minutes=1))
    assert sync_usage(batch_size=3) == {"synced": 2, "deferred": 0, "errors": 0}
    assert Sim.objects.filter(usage_synced_at__isnull=True).count() == 0


def test_rate_limit_is_per_provider(clock, plan, settings):
    settings.USAGE_SYNC_RATE_PER_MINUTE = 2
    other = PlanFactory(provider__name="Second sandbox")
    issue_sims(plan, 3)
    issue_sims(other, 2)
    clock.shift(timedelta(hours=1))

    assert sync_usage() == {"synced": 4, "deferred": 1, "errors": 0}
    assert sync_usage(provider_id=other.provider_id)["synced"] == 0


def test_usage_falls_over_time_and_stores_the_as_of_time(clock, plan):
    [sim] = issue_sims(plan, 1)
    clock.shift(timedelta(hours=1))
    sync_usage()
    sim.refresh_from_db()
    assert (sim.data_remaining_mb, sim.usage_synced_at) == (
        TOTAL_MB - 50,
        START + timedelta(hours=1),
    )

    clock.shift(timedelta(minutes=30))  # synced within the interval: not due yet
    assert sync_usage()["synced"] == 0

    clock.shift(timedelta(hours=1))
    sync_usage()
    sim.refresh_from_db()
    assert sim.data_remaining_mb == TOTAL_MB - 125
    assert sim.usage_synced_at == START + timedelta(hours=2, minutes=30)


def test_issued_sim_becomes_active_once_data_is_used(clock, plan):
    [sim] = issue_sims(plan, 1)
    sync_usage()
    sim.refresh_from_db()
    assert (sim.status, sim.data_remaining_mb) == (Sim.Status.ISSUED, TOTAL_MB)

    clock.shift(timedelta(hours=2))
    sync_usage()
    sim.refresh_from_db()
    assert sim.status == Sim.Status.ACTIVE


def test_sims_expire_when_the_upstream_says_so(clock, plan):
    issued, active = issue_sims(plan, 2)
    Sim.objects.filter(pk=active.pk).update(status=Sim.Status.ACTIVE)
    clock.shift(timedelta(days=7, hours=1))

    assert sync_usage()["synced"] == 2
    for sim in (issued, active):
        sim.refresh_from_db()
        assert sim.status == Sim.Status.EXPIRED
        assert sim.data_remaining_mb == TOTAL_MB - 7 * 24 * 50  # use stops at expiry

    clock.shift(timedelta(days=2))  # expired more than a day ago: no longer read
    assert not due_sims(START + timedelta(days=9, hours=1)).exists()


def test_replaced_and_cancelled_sims_are_left_alone(clock, plan, monkeypatch):
    replaced, cancelled, live = issue_sims(plan, 3)
    Sim.objects.filter(pk=replaced.pk).update(status=Sim.Status.REPLACED)
    Sim.objects.filter(pk=cancelled.pk).update(status=Sim.Status.CANCELLED)
    read = []
    real_read = SandboxAdapter.read_usage
    monkeypatch.setattr(
        SandboxAdapter,
        "read_usage",
        lambda self, *, iccid: read.append(iccid) or real_read(self, iccid=iccid),
    )
    clock.shift(timedelta(days=8))

    assert sync_usage()["synced"] == 1
    assert read == [live.iccid]
    for sim, status in ((replaced, Sim.Status.REPLACED), (cancelled, Sim.Status.CANCELLED)):
        sim.refresh_from_db()
        assert (sim.status, sim.usage_synced_at, sim.data_remaining_mb) == (status, None, TOTAL_MB)


def test_provider_errors_skip_the_sim_but_not_the_batch(clock, plan, monkeypatch):
    sims = issue_sims(plan, 5)
    failing = {sims[0].iccid: TransientProviderError, sims[3].iccid: PermanentProviderError}
    real_read = SandboxAdapter.read_usage

    def read_usage(self, *, iccid):
        if iccid in failing:
            raise failing[iccid]("injected")
        return real_read(self, iccid=iccid)

    monkeypatch.setattr(SandboxAdapter, "read_usage", read_usage)
    clock.shift(timedelta(hours=1))

    assert sync_usage(batch_size=2) == {"synced": 3, "deferred": 0, "errors": 2}
    assert set(due_sims(START + timedelta(hours=1)).values_list("iccid", flat=True)) == set(failing)

    failing.clear()  # the next run picks them up
    assert sync_usage()["synced"] == 2


def test_unknown_iccid_upstream_is_a_permanent_error(clock, plan):
    SimFactory(operator=plan.operator, provider=plan.provider)  # the sandbox never issued it
    issue_sims(plan, 1)
    clock.shift(timedelta(hours=1))
    assert sync_usage() == {"synced": 1, "deferred": 0, "errors": 1}


def test_remaining_is_clamped_to_the_total(clock, plan, monkeypatch):
    [sim] = issue_sims(plan, 1)
    clock.shift(timedelta(hours=1))
    real_read = SandboxAdapter.read_usage

    def read_usage(self, *, iccid):
        usage = real_read(self, iccid=iccid)
        return type(usage)(**{**usage.__dict__, "data_remaining_mb": TOTAL_MB + 500})

    monkeypatch.setattr(SandboxAdapter, "read_usage", read_usage)
    assert sync_usage()["synced"] == 1
    sim.refresh_from_db()
    assert sim.data_remaining_mb == TOTAL_MB


def test_task_and_command_run_the_sync(clock, plan):
    issue_sims(plan, 2)
    clock.shift(timedelta(hours=1))
    assert tasks.sync_usage.delay().get() == {"synced": 2, "deferred": 0, "errors": 0}

    clock.shift(timedelta(hours=2))
    call_command("sync_usage", "--batch-size", "1", stdout=(out := __import__("io").StringIO()))
    assert "synced 2, deferred 0 (rate limit), errors 0" in out.getvalue()


OVERLAP_SIMS = 24


def calls_per_sim() -> dict[str, int]:
    return dict(SandboxOrder.objects.values_list("iccid", "calls"))


def test_a_run_skips_sims_another_run_has_claimed(clock, plan):
    sims = issue_sims(plan, 4)
    clock.shift(timedelta(hours=2))
    Sim.objects.filter(pk=sims[0].pk).update(
        usage_sync_claimed_until=START + timedelta(hours=2, minutes=5)
    )

    assert sync_usage(batch_size=2)["synced"] == 3

    clock.shift(timedelta(minutes=10))  # the other run died: its lease ends
    assert sync_usage(batch_size=2)["synced"] == 1
    assert not Sim.objects.exclude(usage_sync_claim=None).exists()


def test_claims_of_unread_sims_end_with_the_run(clock, plan, settings):
    settings.USAGE_SYNC_RATE_PER_MINUTE = 2
    issue_sims(plan, 5)
    clock.shift(timedelta(hours=2))

    assert sync_usage(batch_size=2)["deferred"] == 3
    assert not Sim.objects.exclude(usage_sync_claimed_until=None).exists()


def test_a_run_out_of_time_stops_and_releases_its_claims(clock, plan, monkeypatch):
    issue_sims(plan, 3)
    clock.shift(timedelta(hours=2))

    def out_of_time(self, *, iccid):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(SandboxAdapter, "read_usage", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        sync_usage(batch_size=2)
    assert not Sim.objects.exclude(usage_sync_claim=None).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_read_each_sim_once(clock, plan):
    """PostgreSQL, two threads with their own connections, each provider call a little slow."""
    assert connection.vendor == "postgresql"
    plan.provider.settings = {"latency_seconds": 0.02}
    plan.provider.save(update_fields=["settings"])
    sims = issue_sims(plan, OVERLAP_SIMS)
    clock.shift(timedelta(hours=2))
    before = calls_per_sim()
    start, results = threading.Barrier(2), []

    def run():
        try:
            start.wait(10)
            results.append(sync_usage(batch_size=4))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    after = calls_per_sim()
    assert {iccid: after[iccid] - before[iccid] for iccid in before} == dict.fromkeys(before, 1)
    assert sum(result["synced"] for result in results) == OVERLAP_SIMS
    for sim in sims:
        sim.refresh_from_db()
        assert sim.usage_synced_at == START + timedelta(hours=2)
