"""Each adapter declares what its upstream can do, and implements exactly that."""

import pytest

from plans.models import Provider
from plans.providers import Capability, adapters_offering, capabilities_of
from plans.providers.base import ProviderAdapter
from plans.providers.capabilities import INTERFACES
from plans.providers.registry import ADAPTER_PATHS, adapter_class

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
