"""Provisioning: retries tell transient from permanent errors; attempts are recorded; stuck work
is found by the reconciler; staff can retry."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orders import tasks
from orders.models import Order, ProvisioningAttempt
from orders.services import provisioning
from orders.services.placing import place_purchase, place_replacement
from plans.models import Plan, Provider, SandboxOrder
from plans.providers.base import TransientProviderError

pytestmark = pytest.mark.django_db
Outcome = ProvisioningAttempt.Outcome


@pytest.fixture
def paid_order(customer, esim_plan, pay, django_capture_on_commit_callbacks):
    order = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    order.status = Order.Status.PAID
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    return order


def sandbox(**options):
    Provider.objects.filter(adapter="sandbox").update(settings=options)


def test_timeout_after_the_upstream_accepted_then_success_buys_once(paid_order):
    sandbox(fail="timeout_after_accept", fail_times=1)
    with pytest.raises(TransientProviderError):
        provisioning.provision_order(paid_order.pk)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PROVISIONING
    assert provisioning.provision_order(paid_order.pk) == Order.Status.FULFILLED
    assert SandboxOrder.objects.count() == 1
    attempts = list(paid_order.provisioning_attempts.values_list("outcome", flat=True))
    assert attempts == [Outcome.TRANSIENT_ERROR, Outcome.SUCCEEDED]
    first = paid_order.provisioning_attempts.first()
    assert first.reference == paid_order.provider_reference and "timeout" in first.error
    assert "sku=" in first.request_summary and first.finished_at


def test_permanent_error_needs_attention_without_retrying(paid_order):
    sandbox(fail="permanent", fail_times=99)
    assert provisioning.provision_order(paid_order.pk) == Order.Status.NEEDS_ATTENTION
    assert paid_order.provisioning_attempts.get().outcome == Outcome.PERMANENT_ERROR
    assert provisioning.provision_order(paid_order.pk) == Order.Status.NEEDS_ATTENTION
    assert paid_order.provisioning_attempts.count() == 1


def test_transient_errors_stop_at_the_cap_and_need_attention(paid_order, settings):
    settings.PROVISIONING_MAX_ATTEMPTS = 3
    sandbox(fail="transient", fail_times=99)
    for _ in range(2):
        with pytest.raises(TransientProviderError):
            provisioning.provision_order(paid_order.pk)
    assert provisioning.provision_order(paid_order.pk) == Order.Status.NEEDS_ATTENTION
    assert paid_order.provisioning_attempts.count() == 3


def test_the_task_keeps_the_next_try_on_the_order_with_back_off(
    paid_order, settings, django_capture_on_commit_callbacks
):
    settings.PROVISIONING_RETRY_BASE_SECONDS = 10
    sandbox(fail="transient", fail_times=2)
    started = timezone.now()
    assert tasks.provision_order.apply(args=[paid_order.pk], throw=True).get() != "fulfilled"
    paid_order.refresh_from_db()
    assert 9 <= (paid_order.next_attempt_at - started).total_seconds() <= 12
    assert provisioning.dispatch_due() == 0  # not due yet: nothing is sent early

    due = paid_order.next_attempt_at + timedelta(seconds=1)
    with time_machine.travel(due), django_capture_on_commit_callbacks(execute=True):
        assert provisioning.dispatch_due() == 1  # sent (eagerly here): fails again, waits 20 s
    paid_order.refresh_from_db()
    assert 19 <= (paid_order.next_attempt_at - due).total_seconds() <= 22
    due = paid_order.next_attempt_at + timedelta(seconds=1)
    with time_machine.travel(due), django_capture_on_commit_callbacks(execute=True):
        provisioning.dispatch_due()
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED and paid_order.next_attempt_at is None
    assert provisioning.retry_delay(20).total_seconds() == 3600


def test_a_live_attempt_keeps_a_second_worker_away_until_its_lease_ends(paid_order, settings):
    settings.PROVISIONING_LEASE_SECONDS = 300
    attempt = provisioning._claim(paid_order.pk)
    with pytest.raises(provisioning.ProvisioningBusy):
        provisioning.provision_order(paid_order.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert provisioning.provision_order(paid_order.pk) == Order.Status.FULFILLED
    attempt.refresh_from_db()
    assert attempt.outcome == Outcome.TRANSIENT_ERROR and "abandoned" in attempt.error
    assert SandboxOrder.objects.count() == 1


def test_reconciler_resumes_orders_that_stopped_half_way(
    paid_order, customer, esim_plan, settings, django_capture_on_commit_callbacks
):
    settings.RECONCILE_AFTER_SECONDS = 60
    settings.PROVISIONING_LEASE_SECONDS = 300
    fresh = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    Order.objects.filter(pk=fresh.pk).update(status=Order.Status.PAID)
    live = place_purchase(plan=esim_plan, customer=customer, currency="PKR")
    Order.objects.filter(pk=live.pk).update(status=Order.Status.PAID)
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        Order.objects.filter(pk__in=[paid_order.pk, live.pk]).update(updated_at=timezone.now())
    with time_machine.travel(timezone.now() - timedelta(minutes=1)):
        provisioning._claim(live.pk)  # its next try is when its lease ends
    Order.objects.filter(pk=live.pk).update(updated_at=timezone.now() - timedelta(minutes=10))

    assert set(provisioning.stuck_orders()) == {paid_order.pk}
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.reconcile_orders.apply().get()
    assert result == {"made_due": 1, "refunds": 0, "sent": {"orders": 1, "events": 0}}
    paid_order.refresh_from_db()
    live.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED
    assert live.status == Order.Status.PROVISIONING  # the reconciler respected its lease


def test_the_reconciler_respects_a_back_off(
    paid_order, settings, django_capture_on_commit_callbacks
):
    settings.PROVISIONING_RETRY_BASE_SECONDS = 16
    settings.RECONCILE_AFTER_SECONDS = 1
    sandbox(fail="transient", fail_times=1)
    tasks.provision_order.apply(args=[paid_order.pk])
    for wait in (10, 17):  # after 10 s it is still waiting out the 16 s
        later = django_capture_on_commit_callbacks(execute=True)
        with time_machine.travel(timezone.now() + timedelta(seconds=wait)), later:
            tasks.reconcile_orders.apply()
        if wait == 10:
            assert paid_order.provisioning_attempts.count() == 1
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED


def test_staff_retry_sends_a_needs_attention_order_back(
    paid_order, django_capture_on_commit_callbacks
):
    sandbox(fail="permanent", fail_times=1)
    provisioning.provision_order(paid_order.pk)
    sandbox()
    with django_capture_on_commit_callbacks(execute=True):
        provisioning.retry_provisioning(order=paid_order, actor=None)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.FULFILLED
    assert paid_order.provisioning_attempts.count() == 2


def test_multi_esim_purchase_issues_one_profile_per_unit(catalog, esim_plan, world_partner):
    partner = world_partner
    order = place_purchase(plan=esim_plan, partner=partner, quantity=3)
    provisioning.provision_order(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.FULFILLED
    assert order.issued_sims.count() == 3 == SandboxOrder.objects.count()
    assert set(order.issued_sims.values_list("partner", flat=True)) == {partner.pk}


def test_replacement_issues_a_new_profile_for_the_same_line(bought_sim, customer, esim_plan):
    fee = Plan.objects.get(kind="replacement", operator=esim_plan.operator)
    order = place_replacement(plan=fee, customer=customer, currency="PKR", sim=bought_sim)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    assert provisioning.provision_order(order.pk) == Order.Status.FULFILLED
    bought_sim.refresh_from_db()
    new = bought_sim.replaced_by
    assert bought_sim.status == "replaced" and new is not None
    assert new.iccid != bought_sim.iccid and new.msisdn == bought_sim.msisdn
    # The old SIM's data and expiry, never less than the new package gives (here: moments later).
    assert new.data_remaining_mb == bought_sim.data_remaining_mb
    assert bought_sim.expires_at <= new.expires_at < bought_sim.expires_at + timedelta(minutes=1)
    assert new.owner == customer and new.status == "issued"
