"""Partner API: support conversations: list (cursor pages, own only), create (idempotent),
detail without internal notes, replies; refusals change nothing; the schema documents it."""

import pytest
from django.core import mail

from support import services
from support.models import Conversation
from tests.api.conftest import client_for
from tests.factories import OrderFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/support/conversations/"


def test_create_about_an_own_order_is_idempotent(
    api_client, api_partner, django_capture_on_commit_callbacks
):
    order = OrderFactory(partner=api_partner, customer=None)
    body = {"category": "not_received", "body": "Where is the eSIM?", "order": order.number}
    with django_capture_on_commit_callbacks(execute=True):
        first = api_client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api_client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert again.json() == first.json() and Conversation.objects.count() == 1
    data = first.json()
    assert data["order"] == order.number and data["status"] == "open"
    assert [m["body"] for m in data["messages"]] == ["Where is the eSIM?"]
    assert data["messages"][0]["author"] == "partner"
    assert len(mail.outbox) == 1  # the support inbox
    other = api_client.post(
        LIST, {**body, "body": "else"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 409


def test_another_partners_order_is_refused_and_nothing_created(api_client):
    theirs = OrderFactory(partner=PartnerFactory(), customer=None)
    response = api_client.post(
        LIST, {"category": "payment", "body": "?", "order": theirs.number}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "order_not_found"
    assert "order" in response.json()["error"]["details"]
    bad = api_client.post(LIST, {"category": "nope", "body": "?"}, format="json")
    assert bad.status_code == 400
    assert not Conversation.objects.exists()


def test_detail_hides_internal_notes_and_replies_reopen(api_client, api_partner):
    conversation = services.open_conversation(partner=api_partner, category="other", body="Hi")
    staff = UserFactory(is_staff=True)
    services.staff_reply(conversation=conversation, staff=staff, body="Hello partner")
    services.staff_reply(conversation=conversation, staff=staff, body="SECRET", internal=True)
    services.close(conversation=conversation, actor=staff)
    detail = api_client.get(f"{LIST}{conversation.pk}/").json()
    assert [m["body"] for m in detail["messages"]] == ["Hi", "Hello partner"]
    assert detail["status"] == "closed"
    reply = api_client.post(
        f"{LIST}{conversation.pk}/replies/", {"body": "Still not working"}, format="json"
    )
    assert reply.status_code == 201 and reply.json()["status"] == "open"
    empty = api_client.post(f"{LIST}{conversation.pk}/replies/", {"body": ""}, format="json")
    assert empty.status_code == 400
    assert conversation.messages.count() == 4


def test_list_is_own_conversations_in_cursor_pages_within_budget(
    api_client, api_partner, other_partner, django_assert_max_num_queries
):
    for n in range(5):
        services.open_conversation(partner=api_partner, category="other", body=f"Q{n}")
    services.open_conversation(partner=other_partner, category="other", body="Theirs")
    with django_assert_max_num_queries(8):
        page = api_client.get(LIST, {"page_size": 2}).json()
    assert [row["subject"] for row in page["results"]] == ["Q4", "Q3"]
    assert page["next"] and "cursor=" in page["next"]
    subjects = []
    url = LIST
    while url:
        body = api_client.get(url).json()
        subjects += [row["subject"] for row in body["results"]]
        url = body["next"]
    assert "Theirs" not in subjects and len(subjects) == 5
    theirs = Conversation.objects.get(partner=other_partner)
    assert api_client.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert (
        api_client.post(f"{LIST}{theirs.pk}/replies/", {"body": "x"}, format="json").status_code
        == 404
    )


def test_ids_that_are_not_numbers_are_404(api_client):
    for pk in ("%C2%B2", "x", "9" * 30):
        assert api_client.get(f"{LIST}{pk}/").status_code == 404


def test_no_key_is_401():
    assert client_for("nope.nope").get(LIST).status_code == 401


def test_the_schema_documents_the_support_endpoints(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/support/conversations/"])
    assert "get" in paths["/api/v1/support/conversations/{id}/"]
    assert "post" in paths["/api/v1/support/conversations/{id}/replies/"]
    create = paths["/api/v1/support/conversations/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
