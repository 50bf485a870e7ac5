"""Every partner endpoint derives from the scoping base; the catalog says it is public."""

import pytest
from rest_framework.generics import GenericAPIView

from core.api.views import PartnerAPIView
from tests.api.contract.routes import OPEN_ROUTES, Route, api_routes, partner_routes

# Endpoints whose rows are no partner's: adding one here is a decision, not an accident.
PUBLIC_TO_PARTNERS = {"api-plan-list", "api-plan-detail", "api-sim-renewal-plans"}


def outside_the_base(routes) -> list[str]:
    """Names of the routes whose view does not derive from PartnerAPIView."""
    return [route.name for route in routes if not issubclass(route.view, PartnerAPIView)]


def test_every_partner_view_derives_from_the_base():
    assert outside_the_base(partner_routes()) == []


def test_the_check_catches_a_view_outside_the_base():
    class Unscoped(GenericAPIView):
        pass

    route = Route("api-unscoped", "api/v1/unscoped/", Unscoped)
    assert outside_the_base([*partner_routes(), route]) == ["api-unscoped"]


def test_only_the_schema_and_its_docs_take_no_api_key():
    assert {route.name for route in api_routes()} - {r.name for r in partner_routes()} == (
        OPEN_ROUTES
    )
    assert len(partner_routes()) > 10


def test_the_catalog_alone_is_public_to_partners():
    public = {route.name for route in partner_routes() if not route.is_scoped}
    assert public == PUBLIC_TO_PARTNERS


def test_a_view_cannot_replace_the_scoped_get_queryset():
    with pytest.raises(TypeError, match="base_queryset"):

        class Bypass(PartnerAPIView):
            def get_queryset(self):
                return []
