"""A mistyped courier or tracking number of a SIM card on its way, corrected by staff (in the
admin): audited, and the customer told the corrected tracking once per correction."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from core.models import AuditEntry
from orders import tasks
from orders.models import Notification, ReplacementTicket
from orders.services.errors import OrderError
from orders.services.shipping import confirm_activation, correct_tracking
from tests.factories import UserFactory
from tests.orders.test_replacement_post_pages import admin_url
from tests.staff import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
Status = ReplacementTicket.Status


def correct(ticket, actor, courier="leopards", number="le 4455 66"):
    return correct_tracking(ticket=ticket, courier=courier, tracking_number=number, actor=actor)


def corrected_emails() -> list:
    return [message for message in mail.outbox if "corrected" in message.subject]


def test_staff_correct_the_tracking_and_the_customer_is_told_once(
    shipped_card, support, customer, django_capture_on_commit_callbacks
):
    shipped_at = shipped_card.shipped_at
    with django_capture_on_commit_callbacks(execute=True):
        assert correct(shipped_card, support) is True
        assert correct(shipped_card, support) is False  # already these: nothing sent again
    shipped_card.refresh_from_db()
    assert (shipped_card.status, shipped_card.courier, shipped_card.tracking_number) == (
        Status.SHIPPED,
        "leopards",
        "LE445566",
    )
    assert shipped_card.shipped_at == shipped_at
    entry = AuditEntry.objects.get(action="replacement.tracking_corrected")
    assert entry.actor == support
    assert (entry.before, entry.after) == (
        {"courier": "tcs", "tracking_number": "770123456789"},
        {"courier": "leopards", "tracking_number": "LE445566"},
    )
    [email] = corrected_emails()
    assert email.to == [customer.email] and shipped_card.tracking_url in email.body
    assert "物流单号已更正" in email.subject
    notices = Notification.objects.filter(kind=Notification.Kind.REPLACEMENT_SHIPPED)
    assert notices.count() == 2 and shipped_card.tracking_url in notices.latest("id").body


def test_a_card_not_shipped_yet_has_no_tracking_to_correct(issued_card, support):
    with pytest.raises(OrderError, match="not been shipped") as refused:
        correct(issued_card, support)
    assert refused.value.code == "wrong_state"
    assert ReplacementTicket.objects.get(pk=issued_card.pk).tracking_number == ""


def test_a_card_activated_keeps_its_tracking(shipped_card, support):
    confirm_activation(ticket=shipped_card, staff=support)
    with pytest.raises(OrderError, match="already activated") as refused:
        correct(shipped_card, support)
    assert refused.value.code == "wrong_state"
    assert ReplacementTicket.objects.get(pk=shipped_card.pk).tracking_number == "770123456789"


def test_bad_input_or_a_clerk_changes_nothing(shipped_card, support):
    with pytest.raises(OrderError) as refused:
        correct(shipped_card, support, number="<script>")
    assert refused.value.code == "tracking_number_invalid"
    with pytest.raises(OrderError) as refused:
        correct(shipped_card, support, courier="dhl-moon")
    assert refused.value.code == "courier_invalid"
    with pytest.raises(PermissionDenied):
        correct(shipped_card, UserFactory(is_staff=True))
    shipped_card.refresh_from_db()
    assert (shipped_card.courier, shipped_card.tracking_number) == ("tcs", "770123456789")
    assert not AuditEntry.objects.filter(action="replacement.tracking_corrected").exists()


def test_staff_correct_it_through_the_admin_form(
    client, shipped_card, support, django_capture_on_commit_callbacks
):
    login_staff(client, support)
    url = admin_url(shipped_card, "tracking")
    assert url in client.get(admin_url(shipped_card)).content.decode()
    assert "770123456789" in client.get(url).content.decode()  # the form shows what is recorded
    refused = client.post(url, {"courier": "tcs", "tracking_number": "1"})
    assert refused.status_code == 200 and "4 to 40 letters" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"courier": "mnp", "tracking_number": "MP-55501"})
    assert response.status_code == 302
    shipped_card.refresh_from_db()
    assert (shipped_card.courier, shipped_card.tracking_number) == ("mnp", "MP-55501")
    assert len(corrected_emails()) == 1
    same = client.post(url, {"courier": "mnp", "tracking_number": "MP-55501"}, follow=True)
    assert "nothing changed" in same.content.decode()


def test_the_tracking_form_is_for_a_card_on_its_way(client, issued_card, support):
    login_staff(client, support)
    assert (
        admin_url(issued_card, "tracking")
        not in client.get(admin_url(issued_card)).content.decode()
    )
    refused = client.post(
        admin_url(issued_card, "tracking"), {"courier": "tcs", "tracking_number": "TCS-001"}
    )
    assert refused.status_code == 200 and "not been shipped" in refused.content.decode()


def test_each_correction_is_told_even_back_to_an_earlier_value(
    shipped_card, support, django_capture_on_commit_callbacks
):
    for courier, number in (("leopards", "LE-1001"), ("mnp", "MP-2002"), ("leopards", "LE-1001")):
        with django_capture_on_commit_callbacks(execute=True):
            assert correct(shipped_card, support, courier=courier, number=number)
    assert ["LE-1001" in m.body for m in corrected_emails()] == [True, False, True]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_replacement_email(shipped_card.pk, "tracking_corrected")  # a task run twice
    assert len(corrected_emails()) == 3
