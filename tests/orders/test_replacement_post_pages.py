"""A SIM card replaced by post on the site and in the admin: staff ship it and mark it activated
through the admin's forms; the owner follows each step and confirms on the site."""

from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from orders.models import Notification, ReplacementTicket, Sim
from tests.factories import UserFactory
from tests.staff import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
Status = ReplacementTicket.Status


def admin_url(ticket, step=""):
    return f"/admin/orders/replacementticket/{ticket.pk}/{step + '/' if step else 'change/'}"


def test_staff_ship_through_the_admin_form(
    client, issued_card, support, django_capture_on_commit_callbacks
):
    login_staff(client, support)
    page = client.get(admin_url(issued_card)).content.decode()
    assert admin_url(issued_card, "ship") in page
    assert admin_url(issued_card, "activate") not in page
    form = client.get(admin_url(issued_card, "ship")).content.decode()
    assert "Pakistan Post" in form and "F-7/2, Islamabad" in form
    refused = client.post(
        admin_url(issued_card, "ship"), {"courier": "tcs", "tracking_number": "1"}
    )
    assert refused.status_code == 200 and "4 to 40 letters" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_url(issued_card, "ship"), {"courier": "mnp", "tracking_number": "MP-55501"}
        )
    assert response.status_code == 302
    issued_card.refresh_from_db()
    assert (issued_card.status, issued_card.courier) == (Status.SHIPPED, "mnp")
    assert any("MP-55501" in m.body for m in mail.outbox)
    again = client.post(
        admin_url(issued_card, "ship"),
        {"courier": "tcs", "tracking_number": "TCS-000"},
        follow=True,
    )
    assert "nothing changed" in again.content.decode()
    issued_card.refresh_from_db()
    assert issued_card.tracking_number == "MP-55501"
    page = client.get(admin_url(issued_card)).content.decode()
    assert "https://www.mulphilog.com/tracking/MP-55501" in page


def test_staff_mark_it_activated_through_the_admin(client, shipped_card, support, card):
    login_staff(client, support)
    assert (
        admin_url(shipped_card, "activate") in client.get(admin_url(shipped_card)).content.decode()
    )
    assert "retired" in client.get(admin_url(shipped_card, "activate")).content.decode()
    client.post(admin_url(shipped_card, "activate"))
    card.refresh_from_db()
    assert card.status == Sim.Status.REPLACED
    again = client.post(admin_url(shipped_card, "activate"), follow=True)
    assert "Already activated" in again.content.decode()


def test_the_admin_forms_are_for_staff_who_may_ship(client, issued_card, identity_reviewer):
    login_staff(client, identity_reviewer)  # may read tickets, not ship them
    assert admin_url(issued_card, "ship") not in client.get(admin_url(issued_card)).content.decode()
    assert client.get(admin_url(issued_card, "ship")).status_code == 403
    data = {"courier": "tcs", "tracking_number": "77012345"}
    assert client.post(admin_url(issued_card, "ship"), data).status_code == 403
    assert client.post(admin_url(issued_card, "activate")).status_code == 403
    issued_card.refresh_from_db()
    assert issued_card.status == Status.ISSUED


def test_a_step_out_of_order_is_refused_in_the_admin(client, issued_card, support):
    login_staff(client, support)
    response = client.post(admin_url(issued_card, "activate"))
    assert response.status_code == 200 and "not been shipped" in response.content.decode()


def test_the_admin_list_keeps_its_query_budget(
    client, shipped_card, support, django_assert_max_num_queries
):
    login_staff(client, support)
    url = "/admin/orders/replacementticket/"
    client.get(url)
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and "TCS" in page.content.decode()


def test_the_owner_follows_each_step_and_confirms(
    client, shipped_card, customer, card, django_capture_on_commit_callbacks
):
    client.force_login(customer)
    page = client.get(f"/sims/{card.iccid}/replace/").content.decode()
    assert "https://www.tcsexpress.com/track/770123456789" in page
    assert f"/sims/{card.iccid}/replace/confirm/" in page
    local = shipped_card.shipped_at.astimezone(ZoneInfo("Asia/Karachi"))
    assert f"{local:%Y-%m-%d %H:%M}" in page  # the site shows Karachi time
    notices = client.get("/notifications/").content.decode()
    assert 'href="https://www.tcsexpress.com/track/770123456789"' in notices
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/sims/{card.iccid}/replace/confirm/", follow=True)
    page = response.content.decode()
    assert "Thank you" in page and "no longer works" in page
    card.refresh_from_db()
    assert card.status == Sim.Status.REPLACED
    again = client.post(f"/sims/{card.iccid}/replace/confirm/", follow=True)
    assert "already confirmed" in again.content.decode()
    assert Notification.objects.filter(kind=Notification.Kind.REPLACEMENT_ACTIVATED).count() == 1


def test_only_the_owner_confirms(client, shipped_card, card):
    client.force_login(UserFactory())
    assert client.post(f"/sims/{card.iccid}/replace/confirm/").status_code == 404
    assert client.get(f"/sims/{card.iccid}/replace/confirm/").status_code == 405
    shipped_card.refresh_from_db()
    card.refresh_from_db()
    assert shipped_card.status == Status.SHIPPED and card.status != Sim.Status.REPLACED


def test_confirming_before_the_card_is_shipped_is_refused(client, issued_card, customer, card):
    client.force_login(customer)
    page = client.get(f"/sims/{card.iccid}/replace/").content.decode()
    assert "being packed" in page and "/replace/confirm/" not in page
    assert client.post(f"/sims/{card.iccid}/replace/confirm/").status_code == 404
    card.refresh_from_db()
    assert card.status != Sim.Status.REPLACED
