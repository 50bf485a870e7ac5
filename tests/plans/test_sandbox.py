import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.validators import normalize_pakistani_mobile, validate_iccid
from plans.models import SandboxOrder
from plans.providers import PermanentProviderError, TransientProviderError, get_adapter
from plans.providers.sandbox import SandboxAdapter, sandbox_iccid, sandbox_msisdn
from tests.factories import PlanFactory, ProviderFactory

LPA = re.compile(r"^LPA:1\$[^$]+\$[A-Z0-9]+$")
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    return ProviderFactory()


@pytest.fixture
def plan(provider):
    return PlanFactory(provider=provider, provider_sku="pk-10gb-7d", data_mb=10240, validity_days=7)


def sandbox(provider, **options):
    provider.settings = options
    provider.save()
    return SandboxAdapter(provider)


def test_retry_returns_the_same_profile_from_one_upstream_order(provider, plan):
    adapter = sandbox(provider)
    with time_machine.travel(START, tick=False):
        first = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    second = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    assert second == first
    order = SandboxOrder.objects.get()
    assert (order.reference, order.operation, order.calls) == ("ord-1", "issue", 2)
    validate_iccid(first.iccid)
    assert len(first.iccid) == 19 and first.iccid.startswith("8992")
    assert LPA.match(first.activation_code)
    assert first.upstream_reference.startswith("sbx-")
    assert first.confirmation_code == ""
    assert normalize_pakistani_mobile(first.msisdn) == first.msisdn
    assert first.data_total_mb == 10240
    assert first.expires_at == START + timedelta(days=7)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text("abcdefXYZ0123456789-_", min_size=1, max_size=40), min_size=2, unique=True))
def test_different_references_get_different_valid_profiles(references):
    SandboxOrder.objects.all().delete()
    plan = PlanFactory()
    adapter = SandboxAdapter(plan.provider)
    profiles = [adapter.issue_esim(reference=r, plan_sku=plan.provider_sku) for r in references]
    assert len({p.iccid for p in profiles}) == len(references)
    assert len({p.activation_code for p in profiles}) == len(references)
    for reference, profile in zip(references, profiles, strict=True):
        validate_iccid(profile.iccid)
        assert profile.iccid == sandbox_iccid(reference)
        assert LPA.match(profile.activation_code)
        assert normalize_pakistani_mobile(profile.msisdn) == profile.msisdn


def test_replacement_keeps_the_number_and_confirmation_code_on_request(provider, plan):
    adapter = sandbox(provider, confirmation_code=True)
    profile = adapter.issue_esim(reference="rep-1", plan_sku="pk-10gb-7d", msisdn="+923001234567")
    assert profile.msisdn == "+923001234567"
    assert profile.msisdn != sandbox_msisdn("rep-1")
    assert re.fullmatch(r"\d{4}", profile.confirmation_code)


def test_unlimited_plan_has_no_data_total(provider):
    PlanFactory(provider=provider, provider_sku="unl", data_mb=None, data_unlimited=True)
    profile = sandbox(provider).issue_esim(reference="u-1", plan_sku="unl")
    assert profile.data_total_mb is None
    assert sandbox(provider).read_usage(iccid=profile.iccid).data_remaining_mb is None


def test_unknown_sku_is_permanent_and_records_nothing(provider, plan):
    with pytest.raises(PermanentProviderError, match="unknown SKU"):
        sandbox(provider).issue_esim(reference="ord-x", plan_sku="nope")
    assert not SandboxOrder.objects.exists()


def test_reference_reused_for_another_request_is_refused(provider, plan):
    PlanFactory(provider=provider, provider_sku="other")
    adapter = sandbox(provider)
    profile = adapter.issue_esim(reference="ord-1", plan_sku="pk-10gb-7d")
    with pytest.raises(PermanentProviderError, match="different request"):
        adapter.issue_esim(reference="ord-1", plan_sku="other")
    with pytest.raises(PermanentProviderError, match="another operation"):
        adapter.renew(reference="ord-1", iccid=profile.iccid, plan_sku="pk-10gb-7d")


def test_transient_failures_then_success_with_one_upstream_order(provider, plan):
    adapter = sandbox(provider, fail="transient", fail_times=2)
    for _ in range(2):
        with pytest.raises(TransientProviderError):
            adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    with pytest.raises(PermanentProviderError, match="unknown ICCID"):
        adapter.read_usage(iccid=sandbox_iccid("ord-1"))
    profile = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    assert profile.iccid == sandbox_iccid("ord-1")
    assert SandboxOrder.objects.get().calls == 3


def test_timeout_after_accept_keeps_the_order_and_the_retry_returns_it(provider, plan):
    adapter = sandbox(provider, fail="timeout_after_accept")
    with pytest.raises(TransientProviderError, match="timeout"):
        adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    order = SandboxOrder.objects.get()
    assert order.accepted_at is not None
    assert adapter.read_usage(iccid=order.iccid).status == "issued"
    profile = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku)
    assert profile.iccid == order.iccid
    assert SandboxOrder.objects.count() == 1


def test_injected_permanent_failure(provider, plan):
    with pytest.raises(PermanentProviderError, match="injected"):
        sandbox(provider, fail="permanent").issue_esim(reference="o", plan_sku="pk-10gb-7d")


def test_unknown_fail_mode_is_a_configuration_error(provider, plan):
    with pytest.raises(PermanentProviderError, match="fail mode"):
        sandbox(provider, fail="sometimes").issue_esim(reference="o", plan_sku="pk-10gb-7d")


def test_fail_skus_refuse_only_those_skus(provider, plan):
    PlanFactory(provider=provider, provider_sku="bad")
    adapter = sandbox(provider, fail_skus=["bad"])
    with pytest.raises(PermanentProviderError, match="refused"):
        adapter.issue_esim(reference="o-1", plan_sku="bad")
    assert adapter.issue_esim(reference="o-2", plan_sku=plan.provider_sku).iccid


def test_latency_sleeps_before_answering(provider, plan):
    with mock.patch("plans.providers.sandbox.adapter.time.sleep") as sleep:
        sandbox(provider, latency_seconds=1.5).issue_esim(reference="o", plan_sku="pk-10gb-7d")
    sleep.assert_called_once_with(1.5)


def test_renew_needs_an_iccid_the_sandbox_issued(provider, plan):
    adapter = sandbox(provider)
    with pytest.raises(PermanentProviderError, match="unknown ICCID"):
        adapter.renew(reference="r-1", iccid=sandbox_iccid("never"), plan_sku="pk-10gb-7d")
    with time_machine.travel(START, tick=False) as clock:
        profile = adapter.issue_esim(reference="ord-1", plan_sku="pk-10gb-7d")
        clock.shift(timedelta(days=2))
        result = adapter.renew(reference="r-2", iccid=profile.iccid, plan_sku="pk-10gb-7d")
        assert adapter.renew(reference="r-2", iccid=profile.iccid, plan_sku="pk-10gb-7d") == result
        usage = adapter.read_usage(iccid=profile.iccid)
    assert result.upstream_reference.startswith("sbx-")
    assert result.data_added_mb == 10240
    assert result.expires_at == START + timedelta(days=14)
    assert usage.data_total_mb == 20480 and usage.expires_at == result.expires_at


def test_recharge_validates_number_and_amount(provider):
    PlanFactory(provider=provider, provider_sku="topup-500", kind="recharge", data_mb=None)
    adapter = sandbox(provider)
    args = {"operator_code": "jazz", "plan_sku": "topup-500", "currency": "PKR"}
    with pytest.raises(PermanentProviderError, match="Pakistani mobile"):
        adapter.recharge(reference="t-1", msisdn="12345", amount=Decimal("500"), **args)
    with pytest.raises(PermanentProviderError, match="positive"):
        adapter.recharge(reference="t-2", msisdn="03001234567", amount=Decimal("0"), **args)
    result = adapter.recharge(reference="t-3", msisdn="0300 1234567", amount=Decimal("500"), **args)
    assert result.upstream_reference.startswith("sbx-tx-")
    assert (result.delivered_amount, result.currency) == (Decimal("500"), "PKR")
    assert SandboxOrder.objects.get(reference="t-3").msisdn == "+923001234567"


def test_usage_goes_down_over_time_and_expires(provider, plan):
    adapter = sandbox(provider, usage_mb_per_hour=100)
    with time_machine.travel(START, tick=False) as clock:
        iccid = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku).iccid
        fresh = adapter.read_usage(iccid=iccid)
        clock.shift(timedelta(hours=10))
        later = adapter.read_usage(iccid=iccid)
        clock.shift(timedelta(days=8))
        expired = adapter.read_usage(iccid=iccid)
    assert (fresh.status, fresh.data_remaining_mb, fresh.data_total_mb) == ("issued", 10240, 10240)
    assert (later.status, later.data_remaining_mb) == ("active", 10240 - 1000)
    assert (expired.status, expired.data_remaining_mb) == ("expired", 0)
    assert expired.expires_at == START + timedelta(days=7)
    assert SandboxOrder.objects.get().calls == 4
    with pytest.raises(PermanentProviderError):
        adapter.read_usage(iccid=sandbox_iccid("unknown"))


def test_cancel_stops_usage_and_renewals(provider, plan):
    adapter = sandbox(provider)
    with time_machine.travel(START, tick=False) as clock:
        iccid = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku).iccid
        clock.shift(timedelta(hours=2))
        adapter.cancel(reference="cancel-1", iccid=iccid)
        adapter.cancel(reference="cancel-1", iccid=iccid)
        clock.shift(timedelta(hours=5))
        usage = adapter.read_usage(iccid=iccid)
    assert (usage.status, usage.data_remaining_mb) == ("cancelled", 10240 - 100)
    assert SandboxOrder.objects.get(reference="ord-1").cancelled_at == START + timedelta(hours=2)
    assert SandboxOrder.objects.get(reference="cancel-1").calls == 2
    with pytest.raises(PermanentProviderError, match="cancelled"):
        adapter.renew(reference="r-1", iccid=iccid, plan_sku=plan.provider_sku)


def test_cancel_with_the_issue_reference(provider, plan):
    adapter = sandbox(provider)
    iccid = adapter.issue_esim(reference="ord-1", plan_sku=plan.provider_sku).iccid
    adapter.cancel(reference="ord-1", iccid=iccid)
    assert adapter.read_usage(iccid=iccid).status == "cancelled"
    assert SandboxOrder.objects.count() == 1


def test_an_order_another_process_created_is_reused(provider, plan):
    SandboxOrder.objects.create(reference="ord-1", operation="issue", plan_sku="pk-10gb-7d")
    with mock.patch.object(SandboxOrder.objects, "get_or_create", side_effect=IntegrityError):
        profile = sandbox(provider).issue_esim(reference="ord-1", plan_sku="pk-10gb-7d")
    order = SandboxOrder.objects.get()
    assert (order.calls, order.iccid) == (1, profile.iccid)
    assert order.accepted_at is not None


def test_registry_returns_the_sandbox_and_refuses_the_rest(provider):
    assert isinstance(get_adapter(provider), SandboxAdapter)
    provider.is_active = False
    with pytest.raises(PermanentProviderError, match="inactive"):
        get_adapter(provider)
    unknown = ProviderFactory(name="Retired upstream", adapter="retired")
    with pytest.raises(PermanentProviderError, match="No adapter for retired"):
        get_adapter(unknown)
