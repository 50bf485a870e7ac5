"""A replacement eSIM keeps what it promised: the old SIM's data left and expiry, upstream too.

The new profile is issued with the plan's own package; what the old SIM had beyond that is
topped up at our cost, so the provider's usage readings (and the customer's page after every
sync) show the carried-over data and expiry. A provider that cannot top up leaves a note for
staff, and the SIM shows what the provider really gives.
"""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from orders import tasks
from orders.models import Order, ProvisioningAttempt, ReplacementTicket, Sim
from orders.services import effects, provisioning
from orders.services.placing import place_purchase, place_renewal
from orders.services.replacement import approve_replacement
from orders.site.sims import data_amount
from plans.models import PlanKind, Provider, SandboxOrder
from plans.providers import Capability
from plans.providers.airalo import AiraloAdapter
from plans.providers.base import PermanentProviderError, TransientProviderError
from plans.providers.esimaccess import EsimAccessAdapter
from plans.providers.reloadly import ReloadlyAdapter
from plans.providers.sandbox import SandboxAdapter
from tests.clock import site_date
from tests.orders.conftest import plan_of
from tests.staff import login_staff
from tests.worlds import build_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

START = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)
PLAN_MB = 10240  # the catalog's weekly 10 GB package, 7 days; the sandbox uses 50 MB an hour
MB_PER_HOUR = 50
Outcome = ProvisioningAttempt.Outcome
TOP_UP = ProvisioningAttempt.Operation.TOP_UP


@pytest.fixture
def clock(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 180, 150)).save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def sandbox(**options):
    Provider.objects.filter(adapter="sandbox").update(settings=options)


@pytest.fixture
def renewed_sim(clock, catalog, customer, pay) -> Sim:
    """A weekly 10 GB eSIM renewed on day 6: 13280 MB left on a 10 GB plan, 14 days of validity.

    Bought at START, 7200 MB used by day 6 (synced), renewed with another week and 10 GB.
    """
    week = plan_of(PlanKind.ESIM, provider_sku__contains="week")
    order = place_purchase(plan=week, customer=customer, currency="PKR")
    pay(order)
    sim = order.issued_sims.get()
    clock.shift(timedelta(days=6))
    tasks.sync_usage.delay()
    renewal_plan = plan_of(PlanKind.RENEWAL, provider_sku__contains="week")
    renewal = place_renewal(plan=renewal_plan, customer=customer, currency="PKR", sim=sim)
    pay(renewal)
    assert renewal.status == Order.Status.FULFILLED
    sim.refresh_from_db()
    assert sim.data_remaining_mb == PLAN_MB - 144 * MB_PER_HOUR + PLAN_MB == 13280
    assert sim.expires_at == START + timedelta(days=14)
    clock.shift(timedelta(hours=1))
    return sim


def request_replacement(client, customer, sim) -> ReplacementTicket:
    client.force_login(customer)
    response = client.post(
        f"/sims/{sim.iccid}/replace/",
        {
            "reason": "lost",
            "full_name": "Li Wei",
            "document_type": "passport",
            "document_number": "EA1234567",
            "currency": "PKR",
            "front": photo(),
            "back": photo(),
            "selfie": photo(),
        },
    )
    assert response.status_code == 302
    return ReplacementTicket.objects.get(sim=sim)


def approve_in_the_admin(client, identity_reviewer, ticket, capture) -> ReplacementTicket:
    """The reviewer approves; the free replacement is provisioned by the real task."""
    login_staff(client, identity_reviewer)
    with capture(execute=True):
        client.post(f"/admin/accounts/identitycheck/{ticket.identity_check_id}/approve/")
    ticket.refresh_from_db()
    assert ticket.status == ReplacementTicket.Status.ISSUED
    return ticket


def top_ups(sim: Sim):
    return SandboxOrder.objects.filter(operation="top_up", iccid=sim.iccid)


def test_the_new_esim_keeps_the_old_ones_data_and_expiry_through_every_sync(
    clock, client, customer, identity_reviewer, renewed_sim, django_capture_on_commit_callbacks
):
    promised_mb, promised_until = renewed_sim.data_remaining_mb, renewed_sim.expires_at
    ticket = request_replacement(client, customer, renewed_sim)
    ticket = approve_in_the_admin(
        client, identity_reviewer, ticket, django_capture_on_commit_callbacks
    )
    issued_at = timezone.now()
    new = ticket.new_sim
    assert (new.data_remaining_mb, new.expires_at) == (promised_mb, promised_until)
    renewed_sim.refresh_from_db()
    assert renewed_sim.status == Sim.Status.REPLACED

    # The usage sync reads the provider a minute later, then again and again.
    for step in (timedelta(minutes=1), timedelta(hours=2), timedelta(days=1)):
        clock.shift(step)
        assert tasks.sync_usage.delay().get()["synced"] == 1
        new.refresh_from_db()
        used = int((timezone.now() - issued_at).total_seconds() / 3600 * MB_PER_HOUR)
        assert new.usage_synced_at == timezone.now()
        assert new.data_remaining_mb == promised_mb - used
        assert new.expires_at == promised_until
        assert new.data_total_mb == promised_mb  # a fresh profile: all of it is left at first

    client.force_login(customer)
    page = client.get("/sims/").content.decode()
    local_expiry = site_date(promised_until, "%Y-%m-%d %H:%M")
    assert f"left of {data_amount(promised_mb)}" in page
    assert f"{data_amount(new.data_remaining_mb)} left" in page
    assert f"{local_expiry}</time>" in page

    # Upstream: one top-up at our cost for the difference, recorded on the order.
    top_up = top_ups(new).get()
    assert top_up.data_mb == promised_mb - PLAN_MB and top_up.expires_at == promised_until
    order = ticket.order
    attempt = order.provisioning_attempts.get(operation=TOP_UP)
    assert attempt.outcome == Outcome.SUCCEEDED
    assert attempt.reference == f"{order.provider_reference}-topup"
    assert "at our cost" in attempt.request_summary
    entry = order.audit_entries().get(action=effects.TOP_UP_ACTION)
    assert entry.after["data_added_mb"] == promised_mb - PLAN_MB
    assert entry.after["valid_until"] == promised_until.isoformat()
    assert "at our cost" in entry.note
    assert not order.audit_entries().filter(action=effects.SHORTFALL_ACTION).exists()


def test_a_retried_provisioning_tops_up_once(
    clock, client, customer, identity_reviewer, renewed_sim, django_capture_on_commit_callbacks
):
    promised_mb, promised_until = renewed_sim.data_remaining_mb, renewed_sim.expires_at
    ticket = request_replacement(client, customer, renewed_sim)
    # Every first call per reference times out after the upstream accepted it.
    sandbox(fail="timeout_after_accept", fail_times=1)
    approve_replacement(ticket=ticket, reviewer=identity_reviewer)  # provisioning is not run yet
    order = ReplacementTicket.objects.get(pk=ticket.pk).order
    assert order.status == Order.Status.PAID

    with pytest.raises(TransientProviderError):  # the issue times out
        provisioning.provision_order(order.pk)
    with pytest.raises(TransientProviderError):  # the profile is back; the top-up times out
        provisioning.provision_order(order.pk)
    # Meanwhile the old SIM keeps being used and synced: the next try asks for a bit less.
    clock.shift(timedelta(hours=2))
    tasks.sync_usage.delay()
    assert provisioning.provision_order(order.pk) == Order.Status.FULFILLED
    assert provisioning.provision_order(order.pk) == Order.Status.FULFILLED  # a late duplicate

    ticket.refresh_from_db()
    new = ticket.new_sim
    top_up = top_ups(new).get()  # one top-up upstream, sent twice, accepted once
    assert top_up.calls == 2 and top_up.data_mb == promised_mb - PLAN_MB
    outcomes = list(
        order.provisioning_attempts.filter(operation=TOP_UP).values_list("outcome", flat=True)
    )
    assert outcomes == [Outcome.TRANSIENT_ERROR, Outcome.SUCCEEDED]
    assert order.audit_entries().filter(action=effects.TOP_UP_ACTION).count() == 1
    assert (new.data_total_mb, new.expires_at) == (promised_mb, promised_until)

    clock.shift(timedelta(minutes=1))
    tasks.sync_usage.delay()
    new.refresh_from_db()
    assert (new.data_total_mb, new.expires_at) == (promised_mb, promised_until)


def test_a_provider_that_cannot_top_up_leaves_a_note_for_staff(
    clock, client, customer, identity_reviewer, renewed_sim, django_capture_on_commit_callbacks
):
    promised_mb, promised_until = renewed_sim.data_remaining_mb, renewed_sim.expires_at
    sandbox(top_up_offered=False)
    ticket = request_replacement(client, customer, renewed_sim)
    ticket = approve_in_the_admin(
        client, identity_reviewer, ticket, django_capture_on_commit_callbacks
    )
    given_until = timezone.now() + timedelta(days=7)
    new = ticket.new_sim
    # The SIM shows what the provider really gives: the next sync changes nothing.
    assert (new.data_total_mb, new.data_remaining_mb, new.expires_at) == (
        PLAN_MB,
        PLAN_MB,
        given_until,
    )
    clock.shift(timedelta(minutes=1))
    tasks.sync_usage.delay()
    new.refresh_from_db()
    assert (new.data_total_mb, new.data_remaining_mb, new.expires_at) == (
        PLAN_MB,
        PLAN_MB,
        given_until,
    )
    assert not top_ups(new).exists()
    order = ticket.order
    assert not order.provisioning_attempts.filter(operation=TOP_UP).exists()

    entry = order.audit_entries().get(action=effects.SHORTFALL_ACTION)
    assert entry.before == {"data_mb": promised_mb, "expires_at": promised_until.isoformat()}
    assert entry.after == {"data_mb": PLAN_MB, "expires_at": given_until.isoformat()}
    staff = build_staff()
    login_staff(client, staff)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert effects.SHORTFALL_ACTION in page and "cannot top up" in page


def test_a_top_up_refused_upstream_also_leaves_a_note(
    clock,
    client,
    customer,
    identity_reviewer,
    renewed_sim,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    def refuse(self, **kwargs):
        raise PermanentProviderError("sandbox: top-up not offered for this package")

    monkeypatch.setattr(SandboxAdapter, "top_up", refuse)
    ticket = request_replacement(client, customer, renewed_sim)
    ticket = approve_in_the_admin(
        client, identity_reviewer, ticket, django_capture_on_commit_callbacks
    )
    order = ticket.order
    assert order.status == Order.Status.FULFILLED
    attempt = order.provisioning_attempts.get(operation=TOP_UP)
    assert attempt.outcome == Outcome.PERMANENT_ERROR and "not offered" in attempt.error
    entry = order.audit_entries().get(action=effects.SHORTFALL_ACTION)
    assert "not offered" in entry.note
    assert ticket.new_sim.data_total_mb == PLAN_MB


def test_nothing_is_topped_up_when_the_new_package_already_gives_as_much(
    client, customer, identity_reviewer, bought_sim, django_capture_on_commit_callbacks
):
    ticket = request_replacement(client, customer, bought_sim)
    ticket = approve_in_the_admin(
        client, identity_reviewer, ticket, django_capture_on_commit_callbacks
    )
    new = ticket.new_sim
    assert new.data_total_mb == PLAN_MB and new.expires_at >= bought_sim.expires_at
    assert not top_ups(new).exists()
    assert not ticket.order.provisioning_attempts.filter(operation=TOP_UP).exists()
    assert (
        not ticket.order.audit_entries()
        .filter(action__in=[effects.TOP_UP_ACTION, effects.SHORTFALL_ACTION])
        .exists()
    )


def test_unlimited_stays_unlimited(clock, catalog, customer):
    week = plan_of(PlanKind.ESIM, provider_sku__contains="week")
    old = Sim(data_total_mb=None, data_remaining_mb=None, expires_at=START + timedelta(days=3))
    capped = effects.carry_over_owed(old, data_total_mb=PLAN_MB, expires_at=START, now=START)
    unlimited = effects.carry_over_owed(old, data_total_mb=None, expires_at=START, now=START)
    assert capped.unlimited and not unlimited.unlimited and unlimited.data_mb == 0
    assert unlimited.valid_until == START + timedelta(days=3)
    expired = Sim(data_total_mb=PLAN_MB, data_remaining_mb=900, expires_at=START)
    assert (
        effects.carry_over_owed(
            expired, data_total_mb=week.data_mb, expires_at=START + timedelta(days=7), now=START
        )
        is None
    )


def test_only_adapters_that_say_so_top_up():
    assert Capability.TOP_UP in SandboxAdapter.capabilities
    for adapter in (AiraloAdapter, EsimAccessAdapter, ReloadlyAdapter):
        assert Capability.TOP_UP not in adapter.capabilities
        assert not hasattr(adapter, "top_up")


def test_the_sandbox_counts_a_top_up_in_readings_and_later_renewals(clock, catalog):
    week = plan_of(PlanKind.ESIM, provider_sku__contains="week")
    adapter = SandboxAdapter(week.provider)
    profile = adapter.issue_esim(reference="promise-1", plan_sku=week.provider_sku)
    until = START + timedelta(days=9)
    result = adapter.top_up(
        reference="promise-1-topup", iccid=profile.iccid, data_mb=2048, valid_until=until
    )
    assert (result.data_added_mb, result.expires_at) == (2048, until)
    again = adapter.top_up(reference="promise-1-topup", iccid=profile.iccid, data_mb=9999)
    assert again == result  # the same top-up, nothing added
    usage = adapter.read_usage(iccid=profile.iccid)
    assert (usage.data_total_mb, usage.expires_at) == (PLAN_MB + 2048, until)

    renewal = adapter.renew(
        reference="promise-1-renew", iccid=profile.iccid, plan_sku=week.provider_sku
    )
    assert renewal.expires_at == until + timedelta(days=7)
    assert adapter.read_usage(iccid=profile.iccid).data_total_mb == 2 * PLAN_MB + 2048
    # A top-up never shortens validity.
    adapter.top_up(reference="promise-1-topup-2", iccid=profile.iccid, valid_until=START)
    assert adapter.read_usage(iccid=profile.iccid).expires_at == until + timedelta(days=7)

    adapter.cancel(reference="promise-1", iccid=profile.iccid)
    with pytest.raises(PermanentProviderError, match="cancelled"):
        adapter.top_up(reference="promise-1-topup-3", iccid=profile.iccid, data_mb=1)
    sandbox(top_up_offered=False)
    week.provider.refresh_from_db()
    refusing = SandboxAdapter(week.provider)
    assert refusing.offers(Capability.TOP_UP) is False
    with pytest.raises(PermanentProviderError, match="not offered"):
        refusing.top_up(reference="promise-2-topup", iccid=profile.iccid, data_mb=1)
