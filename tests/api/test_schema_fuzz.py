"""schemathesis over the whole partner API: no 5xx, every answer matches the OpenAPI schema.

The schema is loaded from the app itself and every operation is called in-process (WSGI) with
the partner's key (``tests.worlds``), with a bounded, derandomized number of examples so the run is
quick and repeatable. Runs on SQLite and under scripts/test (PostgreSQL + Redis).
"""

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.services.placing import place_purchase, place_recharge
from orders.services.replacement import request_replacement
from plans.models import Plan
from portal.wsgi import application
from tests.api.test_replacements_api import photo
from tests.worlds import PARTNER_KEY_PREFIX, PARTNER_KEY_SECRET, build_catalog, build_partner

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def auth_headers() -> dict:
    """The key of the partner of ``tests.worlds``."""
    return {"Authorization": f"Bearer {PARTNER_KEY_PREFIX}.{PARTNER_KEY_SECRET}"}


def seed(partner) -> None:
    """Objects for the fuzzer to find: fulfilled eSIMs, a recharge, a replacement request."""
    plan = Plan.objects.filter(kind="esim", operator__code="jazz").first()
    order = place_purchase(plan=plan, partner=partner, quantity=2)
    recharge = Plan.objects.filter(kind="recharge", operator__code="zong").first()
    place_recharge(plan=recharge, partner=partner, msisdn="+923111234567")
    request_replacement(
        sim=order.issued_sims.first(),
        partner=partner,
        reason="lost",
        full_name="Li Wei",
        document_type="passport",
        document_number="EA1234567",
        front=photo(),
        back=photo(),
        selfie=photo(),
        currency=partner.currency,
    )


@pytest.fixture
def api_schema(db, settings, tmp_path):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000  # the fuzzer is not what we rate-limit
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "base_url": None},
        },
    }
    build_catalog()
    seed(build_partner())
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    loaded.config.update(headers=auth_headers())
    yield loaded
    cache.clear()  # the rate-limit counters of this run


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(checks=CHECKS)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_workflows_through_links(api_schema):
    """Stateful: follow the links schemathesis infers (list → read, place order → read it, …)."""

    class Workflow(api_schema.as_state_machine()):
        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Workflow.run(
        settings=settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
