"""A partner's physical SIM replaced by post: the API shows each step with its time and the
courier's tracking link."""

import pytest

from orders.models import ReplacementTicket, Sim
from orders.models.partner_webhooks import WebhookEndpoint
from orders.services.replacement import approve_replacement
from orders.services.shipping import confirm_activation, correct_tracking, ship_replacement
from tests.api.test_replacements_api import LIST, ask, partner_sim, reviewer
from tests.api.test_webhook_events import sent
from tests.fixtures.posting import ADDRESS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
STEPS = ["approved_at", "issued_at", "shipped_at", "activated_at"]


@pytest.fixture
def partner_card(api_partner, django_capture_on_commit_callbacks):
    sim = partner_sim(api_partner, django_capture_on_commit_callbacks)
    Sim.objects.filter(pk=sim.pk).update(form=Sim.Form.PHYSICAL, activation_code="")
    sim.refresh_from_db()
    return sim


def test_each_step_shows_with_its_time_and_the_tracking_link(
    api_client, partner_card, support, django_capture_on_commit_callbacks
):
    created = ask(api_client, partner_card, delivery_address=ADDRESS).json()
    assert created["courier"] is None and created["tracking_url"] is None
    assert all(created[step] is None for step in STEPS) and created["created_at"]
    ticket = ReplacementTicket.objects.get(pk=created["id"])
    with django_capture_on_commit_callbacks(execute=True):
        approve_replacement(ticket=ticket, reviewer=reviewer())
    issued = api_client.get(f"{LIST}{ticket.pk}/").json()
    assert issued["status"] == "issued" and issued["approved_at"] and issued["issued_at"]
    assert issued["shipped_at"] is None and issued["new_sim"]
    ship_replacement(ticket=ticket, courier="leopards", tracking_number="kh 123456", actor=support)
    shipped = api_client.get(f"{LIST}{ticket.pk}/").json()
    assert (shipped["status"], shipped["courier"], shipped["tracking_number"]) == (
        "shipped",
        "leopards",
        "KH123456",
    )
    assert shipped["tracking_url"] == (
        "https://www.leopardscourier.com/tracking?cn_number=KH123456"
    )
    assert shipped["shipped_at"] and shipped["activated_at"] is None
    partner_card.refresh_from_db()
    assert partner_card.status != Sim.Status.REPLACED  # still the line's working SIM
    confirm_activation(ticket=ticket, staff=support)
    activated = api_client.get(LIST, {"status": "activated"}).json()["results"]
    assert [row["id"] for row in activated] == [ticket.pk]
    assert all(activated[0][step] for step in STEPS)
    partner_card.refresh_from_db()
    assert partner_card.status == Sim.Status.REPLACED


def test_the_list_of_shipped_tickets_keeps_its_query_budget(
    api_client, api_partner, partner_card, django_assert_max_num_queries
):
    created = ask(api_client, partner_card, delivery_address=ADDRESS).json()
    ticket = ReplacementTicket.objects.get(pk=created["id"])
    ReplacementTicket.objects.filter(pk=ticket.pk).update(
        status="shipped", courier="tcs", tracking_number="77012345"
    )
    api_client.get(LIST)
    with django_assert_max_num_queries(1):
        rows = api_client.get(LIST).json()["results"]
    assert rows[0]["tracking_url"] == "https://www.tcsexpress.com/track/77012345"


def test_the_partner_is_told_when_the_card_ships_its_tracking_is_corrected_and_it_works(
    api_client, api_partner, partner_card, support, django_capture_on_commit_callbacks
):
    ticket = ReplacementTicket.objects.get(
        pk=ask(api_client, partner_card, delivery_address=ADDRESS).json()["id"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        approve_replacement(ticket=ticket, reviewer=reviewer())
    WebhookEndpoint.objects.create(partner=api_partner, url="https://hooks.partner.example/p")
    ticket.refresh_from_db()
    new_sim = ticket.new_sim.iccid
    for _ in range(2):  # the second time changes nothing and tells nothing
        ship_replacement(ticket=ticket, courier="tcs", tracking_number="77012345", actor=support)
    correct_tracking(ticket=ticket, courier="leopards", tracking_number="KH123", actor=support)
    for _ in range(2):
        confirm_activation(ticket=ticket, staff=support)
    common = {"replacement": ticket.pk, "sim": partner_card.iccid, "new_sim": new_sim}
    assert sent("replacement.shipped") == [
        {
            **common,
            "status": "shipped",
            "courier": "tcs",
            "tracking_number": "77012345",
            "tracking_url": "https://www.tcsexpress.com/track/77012345",
        },
        {
            **common,
            "status": "shipped",
            "courier": "leopards",
            "tracking_number": "KH123",
            "tracking_url": "https://www.leopardscourier.com/tracking?cn_number=KH123",
        },
    ]
    assert sent("replacement.activated") == [{**common, "status": "activated"}]
