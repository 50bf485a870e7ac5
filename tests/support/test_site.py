"""The customer's support pages: open (from an order, a SIM, a failed payment), read, reply,
close, rate; others' orders and bad uploads refused with nothing created; query budgets."""

import pytest
from django.urls import reverse

from support import services
from support.models import Attachment, Conversation
from tests.factories import CustomerFactory, OrderFactory, UserFactory
from tests.support.conftest import screenshot_file

pytestmark = pytest.mark.django_db
OPEN = "/support/new/"


def post_new(client, **data):
    return client.post(OPEN, {"category": "payment", "body": "The payment failed twice", **data})


def test_pages_need_a_login(client):
    for url in ("/support/", OPEN):
        response = client.get(url)
        assert response.status_code == 302 and reverse("account_login") in response.url


def test_the_footer_and_the_order_page_lead_to_support(client, order):
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert 'href="/support/"' in page
    assert f'href="/support/new/?order={order.number}' in page


def test_a_failed_payment_prefills_the_payment_topic(client, customer):
    order = OrderFactory(customer=customer, status="payment_failed")
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert f"/support/new/?order={order.number}&amp;category=payment" in page
    form = client.get(OPEN, {"order": order.number, "category": "payment"}).content.decode()
    assert order.number in form and 'value="payment" selected' in form


def test_my_sims_link_each_sim_to_support(client, sim):
    page = client.get("/sims/").content.decode()
    assert f"/support/new/?sim={sim.iccid}" in page


def test_opening_from_an_order_with_a_screenshot(client, customer, order):
    response = client.post(
        OPEN,
        {
            "category": "not_received",
            "body": "No email yet",
            "order": order.number,
            "screenshots": [screenshot_file(), screenshot_file("b.png")],
        },
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response.url == f"/support/{conversation.pk}/"
    assert conversation.order == order and conversation.customer == customer
    assert Attachment.objects.count() == 2
    page = client.get(response.url).content.decode()
    assert "No email yet" in page
    attachment = Attachment.objects.first()
    image = client.get(reverse("support:screenshot", args=[attachment.pk]))
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8\xff")


def test_another_customers_order_is_refused_and_nothing_created(client, customer):
    theirs = OrderFactory(customer=CustomerFactory())
    form = client.get(OPEN, {"order": theirs.number})
    assert "This order is not in your account." in form.content.decode()
    assert f"About order {theirs.number}" not in form.content.decode()
    response = post_new(client, order=theirs.number)
    assert response.status_code == 400
    assert "This order is not in your account." in response.content.decode()
    assert not Conversation.objects.exists()


def test_a_bad_upload_is_refused_and_nothing_created(client, customer):
    response = post_new(
        client,
        screenshots=[
            screenshot_file("x.gif").__class__(
                "x.gif", b"GIF89a" + b"\x00" * 100, content_type="image/gif"
            )
        ],
    )
    assert response.status_code == 400
    assert "JPEG, PNG or HEIC" in response.content.decode()
    assert not Conversation.objects.exists() and not Attachment.objects.exists()


def test_an_empty_message_is_refused(client, customer):
    response = post_new(client, body="  ")
    assert response.status_code == 400 and not Conversation.objects.exists()


def test_others_conversations_and_screenshots_are_404(client, customer):
    theirs = services.open_conversation(
        customer=CustomerFactory(),
        category="other",
        body="Mine",
        screenshots=[screenshot_file()],
    )
    assert client.get(f"/support/{theirs.pk}/").status_code == 404
    assert client.post(f"/support/{theirs.pk}/reply/", {"body": "x"}).status_code == 404
    attachment = Attachment.objects.get()
    assert client.get(reverse("support:screenshot", args=[attachment.pk])).status_code == 404


def test_read_reply_close_reopen_and_rate(client, customer):
    conversation = services.open_conversation(customer=customer, category="other", body="Hi")
    staff = UserFactory(is_staff=True)
    services.staff_reply(conversation=conversation, staff=staff, body="Hello from us")
    services.staff_reply(conversation=conversation, staff=staff, body="SECRET", internal=True)
    listing = client.get("/support/").content.decode()
    assert "New reply" in listing
    page = client.get(f"/support/{conversation.pk}/").content.decode()
    assert "Hello from us" in page and "SECRET" not in page
    assert "New reply" not in client.get("/support/").content.decode()
    client.post(f"/support/{conversation.pk}/close/")
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    client.post(f"/support/{conversation.pk}/reply/", {"body": "Still broken"})
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.waiting_since is not None
    client.post(f"/support/{conversation.pk}/close/")
    response = client.post(f"/support/{conversation.pk}/rate/", {"rating": "5", "comment": "Ok"})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.rating == 5
    client.post(f"/support/{conversation.pk}/rate/", {"rating": "1"})
    conversation.refresh_from_db()
    assert conversation.rating == 5


def test_the_list_is_newest_activity_first_paged_and_within_budget(
    client, customer, django_assert_max_num_queries
):
    for n in range(22):
        services.open_conversation(customer=customer, category="other", body=f"Question {n}")
    services.open_conversation(customer=CustomerFactory(), category="other", body="Not mine")
    with django_assert_max_num_queries(6):
        page = client.get("/support/").content.decode()
    assert page.index("Question 21") < page.index("Question 20")
    assert "Not mine" not in page and "Question 1<" not in page
    assert "Question 1" in client.get("/support/", {"page": 2}).content.decode()


def test_the_thread_is_within_budget(client, customer, django_assert_max_num_queries):
    conversation = services.open_conversation(
        customer=customer, category="other", body="Hi", screenshots=[screenshot_file()]
    )
    for n in range(10):
        services.customer_reply(conversation=conversation, customer=customer, body=f"More {n}")
    with django_assert_max_num_queries(8):
        assert client.get(f"/support/{conversation.pk}/").status_code == 200
