"""The auto-renew pages: owner-only, form errors write nothing, on and off."""

import pytest

from orders.models import AutoRenewal, SavedPaymentMethod
from plans.models import PlanKind
from tests.factories import CustomerFactory
from tests.orders.conftest import plan_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evening_before_new_year")]


@pytest.fixture
def card(customer):
    return SavedPaymentMethod.objects.create(
        customer=customer,
        gateway="test",
        payment_method_reference="pm_test_a",
        label="Visa •••• 4242",
    )


def url(sim):
    return f"/sims/{sim.iccid}/auto-renew/"


def test_the_page_lists_plans_and_cards_and_my_sims_links_to_it(client, customer, bought_sim, card):
    client.force_login(customer)
    page = client.get(url(bought_sim))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Visa •••• 4242" in html
    assert plan_of(PlanKind.RENEWAL).display_name in html
    assert url(bought_sim) in client.get("/sims/").content.decode()


def test_other_customers_and_visitors_cannot_see_or_change_it(client, bought_sim, card):
    assert client.get(url(bought_sim)).status_code == 302  # to the login page
    client.force_login(CustomerFactory())
    assert client.get(url(bought_sim)).status_code == 404
    posted = client.post(
        url(bought_sim),
        {
            "action": "enable",
            "plan": plan_of(PlanKind.RENEWAL).pk,
            "payment_method": card.pk,
            "currency": "PKR",
        },
    )
    assert posted.status_code == 404
    assert client.post(f"{url(bought_sim)}card/").status_code == 404
    assert not AutoRenewal.objects.exists()
    assert SavedPaymentMethod.objects.count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"plan": ""}, "plan"),
        ({"plan": "esim"}, "plan"),  # a plan of the wrong kind
        ({"payment_method": "foreign"}, "payment_method"),
        ({"payment_method": "revoked"}, "payment_method"),
        ({"payment_method": "not-a-number"}, "payment_method"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(
    client, customer, bought_sim, card, change, field
):
    other = SavedPaymentMethod.objects.create(
        customer=CustomerFactory(), gateway="test", payment_method_reference="pm_test_b"
    )
    from django.utils import timezone

    revoked = SavedPaymentMethod.objects.create(
        customer=customer,
        gateway="test",
        payment_method_reference="pm_test_c",
        revoked_at=timezone.now(),
    )
    values = {
        "plan": plan_of(PlanKind.RENEWAL).pk,
        "payment_method": card.pk,
        "currency": "PKR",
        **change,
    }
    values["plan"] = {"esim": plan_of(PlanKind.ESIM).pk}.get(values["plan"], values["plan"])
    values["payment_method"] = {"foreign": other.pk, "revoked": revoked.pk}.get(
        values["payment_method"], values["payment_method"]
    )
    client.force_login(customer)
    response = client.post(url(bought_sim), {"action": "enable", **values})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not AutoRenewal.objects.exists()


def test_switch_on_and_off(client, customer, bought_sim, card):
    client.force_login(customer)
    plan = plan_of(PlanKind.RENEWAL)
    on = client.post(
        url(bought_sim),
        {"action": "enable", "plan": plan.pk, "payment_method": card.pk, "currency": "PKR"},
    )
    assert on.status_code == 302
    renewal = AutoRenewal.objects.get(sim=bought_sim)
    assert (renewal.enabled, renewal.plan, renewal.payment_method) == (True, plan, card)
    assert "Auto-renew is on" in client.get(url(bought_sim)).content.decode()

    off = client.post(url(bought_sim), {"action": "disable"})
    assert off.status_code == 302
    renewal.refresh_from_db()
    assert renewal.enabled is False


def test_the_test_setup_page_can_be_cancelled_and_refuses_unknown_actions(
    client, customer, bought_sim
):
    client.force_login(customer)
    started = client.post(f"{url(bought_sim)}card/")
    assert client.post(started.url, {"action": "steal"}).status_code == 400
    cancelled = client.post(started.url, {"action": "cancel"})
    assert cancelled.status_code == 302
    assert not SavedPaymentMethod.objects.exclude(payment_method_reference="").exists()
    assert client.get("/pay/test/setup/no-such-token/").status_code == 404
