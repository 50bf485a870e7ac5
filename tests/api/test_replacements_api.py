"""Replacement (补卡) requests through the partner API: same staff queue, same checks."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import IdentityCheck, IdentityDocument
from accounts.roles import IDENTITY_REVIEWERS, sync_staff_roles
from orders.models import Order, ReplacementTicket, Sim, WalletEntry
from orders.services.placing import place_purchase
from plans.models import Plan
from tests.factories import IdentityCheckFactory, SimFactory, UserFactory
from tests.staff import login_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]
LIST = "/api/v1/replacements/"


def photo(name="photo.jpg", size=(640, 400)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 180, 150)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def request_data(**overrides):
    data = {
        "reason": "lost",
        "full_name": "Li Wei",
        "document_type": "passport",
        "document_number": "EA1234567",
        "front": photo(),
        "back": photo(),
        "selfie": photo(),
    }
    data.update(overrides)
    return data


def ask(client, sim, **overrides):
    return client.post(
        f"/api/v1/sims/{sim.iccid}/replacements/", request_data(**overrides), format="multipart"
    )


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if field:
        assert list(error["details"]) == [field]


def partner_sim(partner, capture, operator="jazz") -> Sim:
    plan = Plan.objects.filter(kind="esim", operator__code=operator).first()
    with capture(execute=True):
        order = place_purchase(plan=plan, partner=partner)
    return order.issued_sims.get()


@pytest.fixture
def sim(api_partner, django_capture_on_commit_callbacks):
    return partner_sim(api_partner, django_capture_on_commit_callbacks)


def stored_files() -> list:
    try:
        return default_storage.listdir("identity")[1]
    except FileNotFoundError:
        return []


def test_request_lands_in_the_staff_queue(api_client, api_partner, sim):
    response = ask(api_client, sim, document_type="cnic", document_number="35202-1234567-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted" and body["sim"] == sim.iccid
    assert body["new_sim"] is None and body["rejection_reason"] is None
    assert body["currency"] == api_partner.currency
    ticket = ReplacementTicket.objects.get(pk=body["id"])
    assert ticket.partner == api_partner and ticket.requested_by is None
    check = ticket.identity_check
    assert check.partner == api_partner and check.customer is None
    assert check.status == "pending" and check.document_number == "3520212345671"
    assert sorted(check.documents.values_list("kind", flat=True)) == ["back", "front", "selfie"]
    assert len(stored_files()) == 3
    assert api_client.get(f"{LIST}{ticket.pk}/").json() == body
    again = ask(api_client, sim)
    assert_error(again, 409, "not_eligible")


def test_a_retry_with_the_same_idempotency_key_is_a_replay(api_client, sim):
    url = f"/api/v1/sims/{sim.iccid}/replacements/"

    def post():
        return api_client.post(
            url, request_data(), format="multipart", HTTP_IDEMPOTENCY_KEY="repl-1"
        )

    first, again = post(), post()
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert ReplacementTicket.objects.count() == 1 and IdentityDocument.objects.count() == 3


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("id.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg"), "unsupported_type"),
        (SimpleUploadedFile("id.jpg", b"\xff\xd8\xff<script>x</script>", "image/jpeg"), None),
        (None, "too_large"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(api_client, sim, settings, upload, code):
    settings.IDENTITY_UPLOAD_MAX_BYTES = 20_000
    if upload is None:
        upload = photo("big.jpg", size=(2000, 2000))
        upload.file = io.BytesIO(upload.read() + b"\0" * 20_000)
        upload.size = len(upload.file.getvalue())
    response = ask(api_client, sim, back=upload)
    assert_error(response, 400, code or "suspicious_content", field="back")
    assert not IdentityCheck.objects.exists() and not ReplacementTicket.objects.exists()
    assert not IdentityDocument.objects.exists() and stored_files() == []


def test_field_errors_name_the_field(api_client, sim):
    assert_error(ask(api_client, sim, document_number="12"), 400, "document_number_invalid")
    assert ask(api_client, sim, document_number="12").json()["error"]["details"] == {
        "document_number": ["A passport number has 6 to 12 letters and digits."]
    }
    missing = ask(api_client, sim, selfie="")
    assert_error(missing, 400, "validation_error", field="selfie")
    assert_error(ask(api_client, sim, currency="USD"), 400, "currency_invalid", field="currency")
    json_body = api_client.post(f"/api/v1/sims/{sim.iccid}/replacements/", {}, format="json")
    assert_error(json_body, 415, "unsupported_media_type")
    physical = SimFactory(owner=None, partner=sim.partner, form="physical", operator=sim.operator)
    assert_error(ask(api_client, physical), 400, "address_required", field="delivery_address")
    assert ask(api_client, physical, delivery_address="12 Mall Road, Lahore").status_code == 201
    assert not IdentityCheck.objects.filter(document_number="12").exists()


def test_other_partners_never_see_or_touch_them(
    api_client, other_partner_client, other_partner, sim, django_capture_on_commit_callbacks
):
    mine = ask(api_client, sim).json()
    assert_error(ask(other_partner_client, sim), 404, "not_found")
    assert_error(other_partner_client.get(f"{LIST}{mine['id']}/"), 404, "not_found")
    assert other_partner_client.get(LIST).json()["results"] == []
    assert other_partner_client.get(LIST, {"sim": sim.iccid}).json()["results"] == []
    theirs_sim = partner_sim(other_partner, django_capture_on_commit_callbacks)
    theirs = ask(other_partner_client, theirs_sim).json()
    assert [t["id"] for t in api_client.get(LIST).json()["results"]] == [mine["id"]]
    assert_error(api_client.get(f"{LIST}{theirs['id']}/"), 404, "not_found")
    customer_sim = SimFactory()
    assert_error(ask(api_client, customer_sim), 404, "not_found")
    assert ReplacementTicket.objects.count() == 2


def reviewer():
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[IDENTITY_REVIEWERS])
    return user


def test_decisions_show_in_the_api(
    api_client, api_partner, client, django_capture_on_commit_callbacks
):
    sim = partner_sim(api_partner, django_capture_on_commit_callbacks, operator="telenor")
    ticket_id = ask(api_client, sim).json()["id"]
    check_id = ReplacementTicket.objects.get(pk=ticket_id).identity_check_id
    login_staff(client, reviewer())
    queue = client.get("/admin/accounts/identitycheck/").content.decode()
    assert f"/admin/accounts/identitycheck/{check_id}/change/" in queue
    before = WalletEntry.balance_of(api_partner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/accounts/identitycheck/{check_id}/approve/")
    body = api_client.get(f"{LIST}{ticket_id}/").json()
    new_sim = Sim.objects.get(replaces=sim)
    assert body["status"] == "issued" and body["new_sim"] == new_sim.iccid
    assert new_sim.partner == api_partner and new_sim.owner is None
    fee = Order.objects.get(number=body["order"])
    assert fee.partner == api_partner and fee.total > 0  # the operator's fee, from the wallet
    assert (fee.cost, fee.cost_currency) == (fee.plan.cost, fee.plan.cost_currency)
    assert WalletEntry.balance_of(api_partner) == before - fee.total

    rejected_id = ask(api_client, new_sim).json()["id"]
    check_id = ReplacementTicket.objects.get(pk=rejected_id).identity_check_id
    client.post(
        f"/admin/accounts/identitycheck/{check_id}/reject/",
        {"reason": "selfie_mismatch", "note": "Please retake the selfie."},
    )
    body = api_client.get(f"{LIST}{rejected_id}/").json()
    assert body["status"] == "rejected" and body["rejection_reason"] == "selfie_mismatch"
    assert body["rejection_note"] == "Please retake the selfie."
    listed = api_client.get(LIST, {"status": "rejected"}).json()["results"]
    assert [t["id"] for t in listed] == [rejected_id]


def test_a_free_replacement_of_a_partner_sim_is_issued_without_a_wallet_entry(
    api_client, api_partner, sim, client, django_capture_on_commit_callbacks
):
    ticket_id = ask(api_client, sim).json()["id"]
    check_id = ReplacementTicket.objects.get(pk=ticket_id).identity_check_id
    entries = WalletEntry.objects.filter(partner=api_partner).count()
    login_staff(client, reviewer())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/accounts/identitycheck/{check_id}/approve/")
    body = api_client.get(f"{LIST}{ticket_id}/").json()
    assert body["status"] == "issued" and body["new_sim"] == Sim.objects.get(replaces=sim).iccid
    assert Order.objects.get(number=body["order"]).total == 0
    assert WalletEntry.objects.filter(partner=api_partner).count() == entries


@pytest.mark.parametrize("count", [10, 1000])
def test_list_queries_do_not_grow(api_client, api_partner, sim, count, django_assert_num_queries):
    sims = Sim.objects.bulk_create(
        SimFactory.build(owner=None, partner=api_partner, operator=sim.operator)
        for _ in range(count)
    )
    checks = IdentityCheck.objects.bulk_create(
        IdentityCheckFactory.build(customer=None, partner=api_partner) for _ in range(count)
    )
    ReplacementTicket.objects.bulk_create(
        ReplacementTicket(sim=s, partner=api_partner, identity_check=c, reason="lost")
        for s, c in zip(sims, checks, strict=True)
    )
    api_client.get(LIST)  # the key's last use is recorded outside the budget
    with django_assert_num_queries(1):  # the page (the key is cached)
        page = api_client.get(LIST, {"page_size": 200})
    assert len(page.json()["results"]) == min(count, 200)


def test_retries_match_whatever_the_multipart_boundary_and_large_photos_pass(api_client, sim):
    """A real client picks a new boundary on every retry; big phone photos exceed 2.5 MB."""
    import io
    import os

    from django.test.client import encode_multipart
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (1800, 1400), os.urandom(1800 * 1400 * 3)).save(
        buffer, "JPEG", quality=98
    )
    assert buffer.tell() > 3 * 1024 * 1024
    url = f"/api/v1/sims/{sim.iccid}/replacements/"

    def post(boundary):
        data = request_data(front=SimpleUploadedFile("front.jpg", buffer.getvalue(), "image/jpeg"))
        return api_client.generic(
            "POST",
            url,
            encode_multipart(boundary, data),
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY="big-1",
        )

    first, again = post("BoundaryOne"), post("BoundaryTwo")
    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert ReplacementTicket.objects.count() == 1
