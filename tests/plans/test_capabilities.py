"""Each adapter declares what its upstream can do, and implements exactly that."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import CATALOG_MANAGERS, sync_staff_roles
from orders.models import Order, Payment, WalletEntry
from orders.services.errors import OrderError
from orders.services.placing import place_purchase
from orders.services.usage import due_sims
from orders.services.wallet import adjust_wallet, available_funds
from orders.site.forms.sim import renewal_plans
from plans.models import CAPABILITY_FOR_KIND, Period, Plan, PlanKind, Provider
from plans.providers import Capability, adapters_offering, capabilities_of
from plans.providers.airalo import AiraloAdapter
from plans.providers.base import CatalogItem, ProviderAdapter
from plans.providers.capabilities import INTERFACES
from plans.providers.registry import ADAPTER_PATHS, adapter_class
from plans.providers.sandbox import SandboxAdapter
from plans.services.catalog_checks import problem
from plans.site.filters import catalog_plans
from tests.factories import (
    CustomerFactory,
    OperatorFactory,
    PartnerFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
    SimFactory,
    UserFactory,
)
from tests.plans.test_catalog_import import csv_file, preview, row_errors
from tests.plans.test_catalog_import import row as import_row
from tests.staff import login_staff

C = Capability
# The table in docs/providers.md.
EXPECTED = {
    "sandbox": set(Capability),
    "airalo": {C.ISSUE_ESIM, C.RENEW, C.READ_USAGE, C.READ_CATALOG, C.CALLBACKS},
    "esimaccess": {C.ISSUE_ESIM, C.RENEW, C.READ_USAGE, C.READ_CATALOG, C.CANCEL, C.CALLBACKS},
    "reloadly": {C.RECHARGE, C.READ_CATALOG},
}


def test_every_stored_adapter_name_has_a_class():
    assert set(ADAPTER_PATHS) == set(Provider.Adapter.values) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_declared_capabilities_are_what_the_adapter_implements(name):
    cls = adapter_class(name)
    assert cls.capabilities == EXPECTED[name] == capabilities_of(name)
    assert not cls.__abstractmethods__  # every declared interface is implemented
    implemented = {capability for capability in Capability if hasattr(cls, capability.value)}
    assert implemented == cls.capabilities  # and nothing undeclared is
    for capability, interface in INTERFACES.items():
        assert issubclass(cls, interface) == (capability in cls.capabilities)


def test_the_base_class_offers_nothing_by_itself():
    assert ProviderAdapter.capabilities == frozenset()
    assert not any(hasattr(ProviderAdapter, capability.value) for capability in Capability)
    assert set(INTERFACES) == set(Capability)


def test_adapters_offering_a_capability():
    assert adapters_offering(C.RECHARGE) == ["sandbox", "reloadly"]
    assert adapters_offering(C.CANCEL) == ["sandbox", "esimaccess"]
    assert capabilities_of("unknown") == frozenset()


# --- before run time: what a plan's kind needs from its provider ------------------------------


@pytest.fixture
def airalo(db):
    return ProviderFactory(name="Airalo", adapter=Provider.Adapter.AIRALO)


@pytest.fixture
def manager(db, client):
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[CATALOG_MANAGERS])
    return login_staff(client, user)


def test_every_plan_kind_needs_a_capability():
    assert set(CAPABILITY_FOR_KIND) == set(PlanKind)


def test_the_admin_refuses_a_plan_its_provider_cannot_supply(client, manager, airalo):
    operator = OperatorFactory()
    data = {
        "operator": operator.pk,
        "provider": airalo.pk,
        "provider_sku": "jazz-100",
        "kind": PlanKind.RECHARGE,
        "name": "Jazz PKR 100",
        "name_zh": "",
        "airtime_amount": "100",
        "validity_days": "0",
        "period": Period.NONE,
        "cost": "100",
        "cost_currency": "PKR",
        "is_active": "on",
        "ordering": "0",
        "prices-TOTAL_FORMS": "0",
        "prices-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:plans_plan_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"kind": ["Airalo cannot supply plans of the kind “Physical SIM recharge”."]}
    assert not Plan.objects.exists()
    response = client.post(reverse("admin:plans_plan_add"), {**data, "kind": PlanKind.ESIM})
    assert response.status_code == 302 and Plan.objects.get().provider == airalo


def test_the_catalog_import_refuses_a_plan_its_provider_cannot_supply(client, manager, airalo):
    OperatorFactory()
    rows = [
        import_row("jazz-esim", provider="Airalo"),
        import_row("jazz-100", provider="Airalo", kind="recharge", airtime_amount="100"),
    ]
    response = preview(client, csv_file(rows))

    assert response.context.get("confirm_form") is None
    assert row_errors(response) == {
        2: {"kind": ["Airalo cannot supply plans of the kind “Physical SIM recharge”."]}
    }
    assert not Plan.objects.exists()


def test_catalog_sync_skips_items_its_provider_cannot_supply(db):
    jazz = OperatorFactory()
    item = CatalogItem("jazz-100", "Jazz 100", PlanKind.RECHARGE, "jazz", Decimal(100), "PKR", 0)
    assert problem(item, {"jazz": jazz}, None, SandboxAdapter.capabilities) is None
    reason = problem(item, {"jazz": jazz}, None, AiraloAdapter.capabilities)
    assert reason == "the provider cannot supply this kind of plan"


def test_an_unsupplied_plan_is_not_listed_and_placing_it_moves_no_money(airalo):
    plan = PlanFactory(operator=OperatorFactory())
    PlanPriceFactory(plan=plan)
    partner = PartnerFactory()
    adjust_wallet(partner=partner, amount=Decimal(5000), reason="float", actor=None)
    funds = available_funds(partner)
    assert list(Plan.objects.supplied()) == [plan]
    assert list(catalog_plans("PKR")) == [plan]

    Plan.objects.filter(pk=plan.pk).update(
        provider=Provider.objects.create(name="Reloadly", adapter=Provider.Adapter.RELOADLY)
    )  # saved before the check existed, or its provider changed since
    plan.refresh_from_db()
    assert not plan.is_supplied
    assert not Plan.objects.supplied().exists() and not catalog_plans("PKR").exists()
    with pytest.raises(OrderError) as refused:
        place_purchase(plan=plan, partner=partner)
    assert refused.value.code == "plan_not_supplied"
    with pytest.raises(OrderError):
        place_purchase(plan=plan, customer=CustomerFactory(), currency="PKR")
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert available_funds(partner) == funds
    assert WalletEntry.objects.filter(partner=partner).count() == 1  # the float only


def test_renewals_are_offered_only_where_the_provider_renews(db):
    operator = OperatorFactory()
    renewal = PlanFactory(operator=operator, kind=PlanKind.RENEWAL)
    PlanPriceFactory(plan=renewal)
    sim = SimFactory(operator=operator)
    assert list(renewal_plans(sim, "PKR")) == [renewal]
    Provider.objects.filter(pk=renewal.provider_id).update(adapter=Provider.Adapter.RELOADLY)
    assert not renewal_plans(sim, "PKR").exists()


def test_usage_sync_skips_providers_that_do_not_read_usage(db):
    reads = SimFactory(provider=ProviderFactory())
    SimFactory(provider=ProviderFactory(name="Reloadly", adapter=Provider.Adapter.RELOADLY))
    assert list(due_sims(timezone.now())) == [reads]
