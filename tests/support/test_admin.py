"""The support queue in the admin: order, SLA clock, assignment, replies and notes, canned
replies in the customer's language, the linked order's actions, and who may do what."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import SUPPORT, sync_staff_roles
from core.audit import entries_for
from orders.models import Order
from support import services
from support.models import CannedReply, Conversation
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.staff import login_staff
from tests.support.conftest import screenshot_file

pytestmark = pytest.mark.django_db
QUEUE = "/admin/support/conversation/"


@pytest.fixture
def agent(client):
    user = UserFactory(is_staff=True, email="agent@paksim.example")
    user.groups.add(sync_staff_roles()[SUPPORT])
    return login_staff(client, user)


def ask(body, minutes_ago=0, **fields):
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago), tick=False):
        return services.open_conversation(
            customer=fields.pop("customer", None) or CustomerFactory(),
            category="other",
            body=body,
            **fields,
        )


def change_url(conversation):
    return reverse("admin:support_conversation_change", args=[conversation.pk])


def test_the_queue_is_oldest_waiting_first_with_the_sla_clock(client, agent, settings):
    settings.SUPPORT_SLA_MINUTES = 60
    answered = ask("Answered one", minutes_ago=500)
    services.staff_reply(conversation=answered, staff=agent, body="Done")
    ask("Recent one", minutes_ago=5)
    ask("Old one", minutes_ago=200)
    page = client.get(QUEUE).content.decode()
    assert page.index("Old one") < page.index("Recent one") < page.index("Answered one")
    assert 'class="sla-late">3 h 20 min' in page
    assert 'class="sla-ok">0 h 05 min' in page


def test_assign_reply_and_internal_note(client, agent, django_capture_on_commit_callbacks):
    conversation = ask("Help", screenshots=[screenshot_file()])
    page = client.get(change_url(conversation)).content.decode()
    assert "Help" in page and "admin/support/conversation/screenshot/" in page
    client.post(reverse("admin:support_conversation_assign", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.assigned_to == agent
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:support_conversation_reply", args=[conversation.pk]),
            {"body": "Customer is a VIP", "internal": "1"},
        )
        client.post(
            reverse("admin:support_conversation_reply", args=[conversation.pk]),
            {"body": "Please restart your phone"},
        )
    assert [m.to for m in mail.outbox] == [[conversation.customer.email]]
    assert "VIP" not in mail.outbox[0].body
    conversation.refresh_from_db()
    assert conversation.waiting_since is None
    actions = set(entries_for(conversation).values_list("action", flat=True))
    assert {"support.assigned", "support.note_added", "support.staff_replied"} <= actions
    screenshot = conversation.messages.first().attachments.get()
    image = client.get(reverse("admin:support_screenshot", args=[screenshot.pk]))
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8\xff")


def test_an_empty_reply_changes_nothing(client, agent):
    conversation = ask("Help")
    response = client.post(
        reverse("admin:support_conversation_reply", args=[conversation.pk]),
        {"body": " "},
        follow=True,
    )
    assert "Please write your message." in response.content.decode()
    assert conversation.messages.count() == 1


def test_a_canned_reply_fills_the_form_in_the_customers_language(client, agent):
    canned = CannedReply.objects.create(
        title="APN", body_zh_hans="请把 APN 设为 jazz.internet", body_en="Set the APN"
    )
    chinese = ask("没有网络")
    english = ask("No data", customer=CustomerFactory(profile__preferred_language="en"))
    page = client.get(change_url(chinese), {"canned": canned.pk}).content.decode()
    assert "请把 APN 设为 jazz.internet</textarea>" in page
    page = client.get(change_url(english), {"canned": canned.pk}).content.decode()
    assert "Set the APN</textarea>" in page


def test_the_linked_orders_retry_calls_the_order_service(client, agent):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, status=Order.Status.NEEDS_ATTENTION)
    conversation = ask("Stuck", customer=customer, order_number=order.number)
    page = client.get(change_url(conversation)).content.decode()
    assert reverse("admin:orders_order_change", args=[order.pk]) in page
    assert reverse("admin:support_conversation_retry", args=[conversation.pk]) in page
    client.post(reverse("admin:support_conversation_retry", args=[conversation.pk]))
    order.refresh_from_db()
    assert order.status == Order.Status.PROVISIONING


def test_refund_is_one_click_for_finance_roles(client, signed_in_superuser):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, status=Order.Status.FULFILLED, paid_at=timezone.now())
    conversation = ask("Refund please", customer=customer, order_number=order.number)
    page = client.get(change_url(conversation)).content.decode()
    assert reverse("admin:orders_order_refund", args=[order.pk]) in page


def test_support_agents_cannot_refund_and_close_through_the_service(client, agent):
    customer = CustomerFactory()
    order = OrderFactory(customer=customer, status=Order.Status.FULFILLED, paid_at=timezone.now())
    conversation = ask("Refund please", customer=customer, order_number=order.number)
    page = client.get(change_url(conversation)).content.decode()
    assert reverse("admin:orders_order_refund", args=[order.pk]) not in page
    client.post(reverse("admin:support_conversation_close", args=[conversation.pk]))
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED


def test_staff_without_the_role_cannot_reply(client):
    login_staff(client, UserFactory(is_staff=True))
    conversation = ask("Help")
    assert client.get(change_url(conversation)).status_code == 403
    response = client.post(
        reverse("admin:support_conversation_reply", args=[conversation.pk]), {"body": "x"}
    )
    assert response.status_code == 403 and conversation.messages.count() == 1


def test_the_queue_and_thread_stay_within_budget(client, agent, django_assert_max_num_queries):
    for n in range(15):
        conversation = ask(f"Question {n}")
        services.staff_reply(conversation=conversation, staff=agent, body="A", internal=True)
    client.get(QUEUE)
    with django_assert_max_num_queries(12):
        assert client.get(QUEUE).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(change_url(conversation)).status_code == 200
