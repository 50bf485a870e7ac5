"""Two reviewers approving the same replacement at once issue one new SIM."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import IdentityCheck, User
from accounts.roles import IDENTITY_REVIEWERS
from orders.models import Order, ReplacementTicket, Sim
from orders.services.replacement import approve_replacement
from plans.models import Plan, PlanKind, SandboxOrder
from plans.providers import get_adapter
from tests.factories import SimFactory, UserFactory
from tests.reliability.test_concurrency import run_together
from tests.worlds import CUSTOMER_EMAIL, build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_reviewers_approving_at_once_issue_one_sim():
    build_world()
    customer = User.objects.get(email=CUSTOMER_EMAIL)
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="jazz").first()
    profile = get_adapter(plan.provider).issue_esim(reference="first", plan_sku=plan.provider_sku)
    sim = SimFactory(
        owner=customer,
        operator=plan.operator,
        iccid=profile.iccid,
        provider=plan.provider,
        provider_reference="first",
        current_plan=plan,
        msisdn=profile.msisdn,
    )
    check = IdentityCheck.objects.create(
        customer=customer, full_name="Li Wei", document_type="passport", document_number="EA1234567"
    )
    ticket = ReplacementTicket.objects.create(
        sim=sim, requested_by=customer, identity_check=check, reason="lost"
    )
    reviewers = [UserFactory(is_staff=True) for _ in range(2)]
    for reviewer in reviewers:
        reviewer.groups.add(Group.objects.get(name=IDENTITY_REVIEWERS))

    outcomes = run_together(lambda i: approve_replacement(ticket=ticket, reviewer=reviewers[i]), 2)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Order.objects.filter(kind="replacement").count() == 1
    ticket.refresh_from_db()
    assert ticket.status == "issued"
    assert Sim.objects.filter(replaces=sim).count() == 1
    assert SandboxOrder.objects.filter(operation="issue").count() == 2  # first + replacement
