"""Replacement (补卡): request with documents on the site, review in the admin, new eSIM issued."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import IdentityCheck, IdentityDocument
from accounts.roles import IDENTITY_REVIEWERS, SUPPORT
from core.models import AuditEntry
from orders.models import Order, ReplacementTicket, Sim
from orders.services.placing import place_purchase
from plans.models import Plan, PlanKind, SandboxOrder
from tests.factories import UserFactory
from tests.staff import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def photo(name="photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 180, 150)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def request_data(**overrides):
    data = {
        "reason": "lost",
        "full_name": "Li Wei",
        "document_type": "passport",
        "document_number": "EA1234567",
        "currency": "PKR",
        "front": photo(),
        "back": photo(),
        "selfie": photo(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def requested(client, customer, bought_sim, django_capture_on_commit_callbacks):
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/sims/{bought_sim.iccid}/replace/", request_data())
    assert response.status_code == 302
    return ReplacementTicket.objects.get()


def test_customer_requests_and_sees_the_review_time(client, requested, bought_sim):
    assert requested.status == "submitted" and requested.identity_check.status == "pending"
    documents = requested.identity_check.documents.all()
    assert sorted(d.kind for d in documents) == ["back", "front", "selfie"]
    assert all(
        d.file.name.startswith("identity/") and "photo" not in d.file.name for d in documents
    )
    page = client.get(f"/sims/{bought_sim.iccid}/replace/").content.decode()
    assert "24 to 48 hours" in page
    assert "received your request" in mail.outbox[-1].body


def test_reviewer_approves_in_the_admin_and_the_new_esim_is_issued(
    client, requested, identity_reviewer, bought_sim, customer, django_capture_on_commit_callbacks
):
    login_staff(client, identity_reviewer)
    page = client.get(f"/admin/accounts/identitycheck/{requested.identity_check_id}/change/")
    assert page.status_code == 200 and "Li Wei" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/accounts/identitycheck/{requested.identity_check_id}/approve/")
    requested.refresh_from_db()
    bought_sim.refresh_from_db()
    assert requested.status == "issued" and requested.order.total == 0
    new = requested.new_sim
    assert bought_sim.status == Sim.Status.REPLACED and bought_sim.replaced_by == new
    assert new.msisdn == bought_sim.msisdn and new.expires_at >= bought_sim.expires_at
    assert SandboxOrder.objects.get(iccid=bought_sim.iccid).cancelled_at is not None
    client.force_login(customer)
    status = client.get(f"/sims/{bought_sim.iccid}/replace/").content.decode()
    assert f"/sims/{new.iccid}/install/" in status
    assert any("approved" in m.body for m in mail.outbox)


def test_a_fee_is_paid_after_approval(client, customer, identity_reviewer, pay, catalog):
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="telenor").first()
    order = place_purchase(plan=plan, customer=customer, currency="PKR")
    pay(order)
    sim = order.issued_sims.get()
    client.force_login(customer)
    client.post(f"/sims/{sim.iccid}/replace/", request_data())
    ticket = ReplacementTicket.objects.get()
    login_staff(client, identity_reviewer)
    client.post(f"/admin/accounts/identitycheck/{ticket.identity_check_id}/approve/")
    ticket.refresh_from_db()
    assert ticket.status == "approved" and ticket.order.total == 200
    fee_plan = ticket.order.plan
    assert (ticket.order.cost, ticket.order.cost_currency) == (
        fee_plan.cost,
        fee_plan.cost_currency,
    )
    assert ticket.order.status == Order.Status.CREATED
    client.force_login(customer)
    assert (
        f"/orders/{ticket.order.number}/pay/"
        in client.get(f"/sims/{sim.iccid}/replace/").content.decode()
    )
    pay(ticket.order)
    ticket.refresh_from_db()
    assert ticket.status == "issued"


def test_rejection_shows_the_reason_and_allows_a_new_request(
    client, requested, identity_reviewer, customer, bought_sim
):
    login_staff(client, identity_reviewer)
    client.post(
        f"/admin/accounts/identitycheck/{requested.identity_check_id}/reject/",
        {"reason": "selfie_mismatch", "note": "Face not visible"},
    )
    requested.refresh_from_db()
    assert requested.status == "rejected"
    client.force_login(customer)
    page = client.get(f"/sims/{bought_sim.iccid}/replace/").content.decode()
    assert "does not match" in page and "Face not visible" in page
    assert client.post(f"/sims/{bought_sim.iccid}/replace/", request_data()).status_code == 302
    assert ReplacementTicket.objects.filter(status="submitted").count() == 1


def test_repeated_rejections_flag_the_account(client, customer, bought_sim, identity_reviewer):
    for _ in range(3):
        client.force_login(customer)
        client.post(f"/sims/{bought_sim.iccid}/replace/", request_data())
        ticket = ReplacementTicket.objects.get(status="submitted")
        login_staff(client, identity_reviewer)
        client.post(
            f"/admin/accounts/identitycheck/{ticket.identity_check_id}/reject/",
            {"reason": "unreadable"},
        )
    customer.profile.refresh_from_db()
    assert customer.profile.identity_flagged


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"document_type": "cnic", "document_number": "12345"}, "13 digits"),
        ({"document_number": "EA-12"}, "6 to 12"),
        ({"full_name": ""}, "required"),
        ({"front": SimpleUploadedFile("id.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")}, "JPEG"),
        (
            {
                "selfie": SimpleUploadedFile(
                    "me.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml"
                )
            },
            "JPEG",
        ),
    ],
)
def test_bad_requests_write_nothing(client, customer, bought_sim, overrides, message):
    client.force_login(customer)
    response = client.post(f"/sims/{bought_sim.iccid}/replace/", request_data(**overrides))
    assert response.status_code == 200 and message in response.content.decode()
    assert not IdentityCheck.objects.exists() and not IdentityDocument.objects.exists()


def test_only_the_owner_of_a_live_sim_can_ask(client, customer, bought_sim, django_user_model):
    other = UserFactory()
    client.force_login(other)
    assert client.get(f"/sims/{bought_sim.iccid}/replace/").status_code == 404
    client.logout()
    assert "/accounts/login/" in client.get(f"/sims/{bought_sim.iccid}/replace/")["Location"]
    Sim.objects.filter(pk=bought_sim.pk).update(status=Sim.Status.REPLACED)
    client.force_login(customer)
    page = client.get(f"/sims/{bought_sim.iccid}/replace/").content.decode()
    assert "already been replaced" in page
    client.post(f"/sims/{bought_sim.iccid}/replace/", request_data())
    assert not ReplacementTicket.objects.exists()


def document_url(ticket) -> str:
    document = ticket.identity_check.documents.get(kind="front")
    return f"/admin/accounts/identitycheck/document/{document.pk}/"


def test_document_access_is_denied_to_everyone_but_reviewers(
    client, requested, identity_reviewer, customer
):
    url = document_url(requested)
    assert client.get(url).status_code == 302  # anonymous: admin login
    assert client.get(url, headers={"authorization": "Bearer demopartner.x"}).status_code == 302
    client.force_login(customer)
    assert client.get(url).status_code == 302  # not staff
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT))
    login_staff(client, support)
    assert client.get(url).status_code == 403
    assert (
        client.get(
            f"/admin/accounts/identitycheck/{requested.identity_check_id}/change/"
        ).status_code
        == 403
    )
    assert not AuditEntry.objects.filter(action="identity_document.viewed").exists()
    login_staff(client, identity_reviewer)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"\xff\xd8\xff")
    assert "no-store" in response["Cache-Control"]
    viewed = AuditEntry.objects.get(action="identity_document.viewed")
    assert viewed.actor == identity_reviewer


def test_stored_bytes_are_not_the_image(requested):
    document = requested.identity_check.documents.get(kind="front")
    with document.file.open("rb") as handle:
        stored = handle.read()
    assert not stored.startswith(b"\xff\xd8\xff") and b"JFIF" not in stored


def test_nobody_reviews_their_own_request(client, catalog, identity_reviewer, pay):
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="jazz").first()
    order = place_purchase(plan=plan, customer=identity_reviewer, currency="PKR")
    pay(order)
    sim = order.issued_sims.get()
    login_staff(client, identity_reviewer)
    client.post(f"/sims/{sim.iccid}/replace/", request_data())
    ticket = ReplacementTicket.objects.get()
    client.post(f"/admin/accounts/identitycheck/{ticket.identity_check_id}/approve/")
    ticket.refresh_from_db()
    assert ticket.status == "submitted"


def test_two_person_approval(client, requested, identity_reviewer, settings):
    settings.IDENTITY_TWO_PERSON_APPROVAL = True
    second = UserFactory(is_staff=True)
    second.groups.add(Group.objects.get(name=IDENTITY_REVIEWERS))
    url = f"/admin/accounts/identitycheck/{requested.identity_check_id}/approve/"
    login_staff(client, identity_reviewer)
    client.post(url)
    client.post(url)  # the same reviewer again does not count
    requested.refresh_from_db()
    assert requested.status == "submitted"
    assert requested.identity_check.first_approved_by == identity_reviewer
    login_staff(client, second)
    client.post(url)
    requested.refresh_from_db()
    assert requested.status in ("approved", "issued")
    assert requested.identity_check.reviewed_by == second


def test_review_queue_is_oldest_first_with_an_sla_clock(
    client, requested, identity_reviewer, django_assert_max_num_queries
):
    IdentityCheck.objects.filter(pk=requested.identity_check_id).update(
        created_at=requested.created_at - __import__("datetime").timedelta(hours=50)
    )
    login_staff(client, identity_reviewer)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/accounts/identitycheck/?status__exact=pending")
    assert 'class="sla-late"' in page.content.decode()
