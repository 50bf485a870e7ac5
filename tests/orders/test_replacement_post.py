"""A physical SIM's replacement by post, through its services: every allowed and refused step,
the old SIM live until the new card is activated, the customer's emails and in-site notices."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from core.models import AuditEntry
from orders import tasks
from orders.models import Notification, ReplacementTicket, Sim
from orders.models.partner_webhooks import WebhookDelivery, WebhookEndpoint
from orders.services.errors import OrderError
from orders.services.replacement import ineligibility
from orders.services.shipping import confirm_activation, ship_replacement
from plans.models import SandboxOrder
from tests.factories import PartnerFactory, ReplacementTicketFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
Status = ReplacementTicket.Status


def ship(ticket, actor, courier="tcs", number="7701 2345 6789"):
    return ship_replacement(ticket=ticket, courier=courier, tracking_number=number, actor=actor)


def test_a_physical_sims_new_card_is_issued_without_retiring_the_old_one(issued_card, card):
    card.refresh_from_db()
    new = issued_card.new_sim
    assert card.status == Sim.Status.ACTIVE or card.status == Sim.Status.ISSUED
    assert card.replaced_by is None
    assert SandboxOrder.objects.get(iccid=card.iccid).cancelled_at is None
    assert (new.form, new.activation_code, new.msisdn) == (Sim.Form.PHYSICAL, "", card.msisdn)
    assert issued_card.approved_at and issued_card.issued_at
    assert ineligibility(card, card.owner)  # no second request while the card is on its way
    number = issued_card.order.number
    assert not any(number in m.subject for m in mail.outbox)  # no eSIM install email


def test_staff_ship_it_and_the_customer_is_told_with_the_tracking_link(
    shipped_card, support, customer
):
    ticket = shipped_card
    assert (ticket.status, ticket.courier, ticket.tracking_number) == (
        Status.SHIPPED,
        "tcs",
        "770123456789",
    )
    assert ticket.shipped_at is not None
    assert ticket.tracking_url == "https://www.tcsexpress.com/track/770123456789"
    entry = AuditEntry.objects.get(action="replacementticket.status", after={"status": "shipped"})
    assert entry.actor == support and "770123456789" in entry.note
    sent = [m for m in mail.outbox if "on its way" in m.subject]
    assert len(sent) == 1 and sent[0].to == [customer.email]
    assert ticket.tracking_url in sent[0].body and "新 SIM 卡" in sent[0].subject
    notice = Notification.objects.get(user=customer, kind=Notification.Kind.REPLACEMENT_SHIPPED)
    assert ticket.tracking_url in notice.body and notice.channels == ["email"]


def test_shipping_twice_changes_nothing_and_says_so(shipped_card, support):
    before = shipped_card.shipped_at
    with_other_number = ship(shipped_card, support, courier="leopards", number="LE-999999")
    assert with_other_number is False
    shipped_card.refresh_from_db()
    assert (shipped_card.courier, shipped_card.shipped_at) == ("tcs", before)
    assert AuditEntry.objects.filter(after={"status": "shipped"}).count() == 1


@pytest.mark.parametrize(
    ("courier", "number", "code"),
    [
        ("dhl-moon", "77012345", "courier_invalid"),
        ("tcs", "", "tracking_number_invalid"),
        ("tcs", "12", "tracking_number_invalid"),
        ("tcs", "<script>", "tracking_number_invalid"),
        ("tcs", "9" * 41, "tracking_number_invalid"),
    ],
)
def test_bad_shipping_input_is_refused_and_changes_nothing(
    issued_card, support, courier, number, code
):
    with pytest.raises(OrderError) as refused:
        ship(issued_card, support, courier=courier, number=number)
    assert refused.value.code == code
    issued_card.refresh_from_db()
    assert (issued_card.status, issued_card.tracking_number) == (Status.ISSUED, "")


def test_only_staff_allowed_to_ship_may(issued_card, customer):
    clerk = UserFactory(is_staff=True)
    for actor in (customer, clerk):
        with pytest.raises(PermissionDenied):
            ship(issued_card, actor)
    issued_card.refresh_from_db()
    assert issued_card.status == Status.ISSUED


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.SUBMITTED, "not been approved"),
        (Status.APPROVED, "fee is unpaid"),
        (Status.REJECTED, "rejected"),
        (Status.CANCELLED, "cancelled"),
    ],
)
def test_a_card_not_issued_is_not_shipped(requested_card, support, status, message):
    ReplacementTicket.objects.filter(pk=requested_card.pk).update(status=status)
    with pytest.raises(OrderError, match=message) as refused:
        ship(requested_card, support)
    assert refused.value.code == "wrong_state"
    assert ReplacementTicket.objects.get(pk=requested_card.pk).status == status


def test_an_esim_replacement_is_not_shipped(support):
    ticket = ReplacementTicketFactory(status=Status.ISSUED)
    with pytest.raises(OrderError) as refused:
        ship(ticket, support)
    assert refused.value.code == "not_by_post"


def test_the_old_sim_works_until_the_customer_confirms_then_it_is_retired(
    shipped_card, card, customer, django_capture_on_commit_callbacks
):
    card.refresh_from_db()
    assert card.status in {Sim.Status.ISSUED, Sim.Status.ACTIVE} and card.replaced_by is None
    assert SandboxOrder.objects.get(iccid=card.iccid).cancelled_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm_activation(ticket=shipped_card, customer=customer) is True
    card.refresh_from_db()
    new = shipped_card.new_sim
    new.refresh_from_db()
    assert shipped_card.status == Status.ACTIVATED and shipped_card.activated_at
    assert (card.status, card.replaced_by) == (Sim.Status.REPLACED, new)
    assert new.status == Sim.Status.ACTIVE
    assert SandboxOrder.objects.get(iccid=card.iccid).cancelled_at is not None
    entry = AuditEntry.objects.get(action="replacementticket.status", after={"status": "activated"})
    assert entry.actor == customer and entry.note == "confirmed by the customer"
    assert AuditEntry.objects.filter(action="sim.status", after={"status": "replaced"}).exists()
    assert [m for m in mail.outbox if "is active" in m.subject]
    assert Notification.objects.filter(kind=Notification.Kind.REPLACEMENT_ACTIVATED).count() == 1


def test_staff_may_mark_it_activated_and_confirming_twice_changes_nothing(
    shipped_card, support, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm_activation(ticket=shipped_card, staff=support) is True
    activated_at = shipped_card.activated_at
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert confirm_activation(ticket=shipped_card, customer=customer) is False
        assert confirm_activation(ticket=shipped_card, staff=support) is False
    assert not sent
    shipped_card.refresh_from_db()
    assert shipped_card.activated_at == activated_at
    assert AuditEntry.objects.filter(after={"status": "activated"}).count() == 1
    assert len([m for m in mail.outbox if "is active" in m.subject]) == 1


def test_nobody_else_confirms(shipped_card, card):
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        confirm_activation(ticket=shipped_card, customer=stranger)
    with pytest.raises(PermissionDenied):
        confirm_activation(ticket=shipped_card, staff=UserFactory(is_staff=True))
    shipped_card.refresh_from_db()
    card.refresh_from_db()
    assert shipped_card.status == Status.SHIPPED and card.replaced_by is None


def test_a_card_not_shipped_is_not_activated(issued_card, customer, card):
    with pytest.raises(OrderError, match="not been shipped") as refused:
        confirm_activation(ticket=issued_card, customer=customer)
    assert refused.value.code == "wrong_state"
    card.refresh_from_db()
    assert card.replaced_by is None


def test_the_email_task_run_twice_sends_once(shipped_card):
    before = len(mail.outbox)
    tasks.send_replacement_email(shipped_card.pk, "shipped")
    tasks.send_replacement_email(shipped_card.pk, "shipped")
    assert len(mail.outbox) == before
    assert Notification.objects.filter(kind=Notification.Kind.REPLACEMENT_SHIPPED).count() == 1


def test_the_approval_email_says_the_card_is_posted(requested_card, identity_reviewer, card):
    from orders.services.replacement import approve_replacement

    approve_replacement(ticket=requested_card, reviewer=identity_reviewer)
    tasks.send_replacement_email(requested_card.pk, "approved")
    body = mail.outbox[-1].body
    assert "post your new SIM card" in body and "eSIM" not in body


def test_a_customers_card_by_post_tells_no_partner(support, issued_card):
    WebhookEndpoint.objects.create(partner=PartnerFactory(), url="https://hooks.partner.example/p")
    ship_replacement(ticket=issued_card, courier="tcs", tracking_number="77012345", actor=support)
    confirm_activation(ticket=issued_card, staff=support)
    assert not WebhookDelivery.objects.exists()
