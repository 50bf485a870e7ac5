"""The customer's notification list, the unread count in the header, "mark all as read"."""

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Notification
from orders.notifications import unread
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = "/notifications/"


def notify(user, count=1, **fields):
    """Insert notifications as the reminder sweep does (in bulk, their owner's count retired)."""
    rows = Notification.objects.bulk_create(
        Notification(
            **{
                "user": user,
                "kind": Notification.Kind.EXPIRY_3D,
                "period_key": f"p{i}",
                "title": f"Title {i}",
                "body": f"Body {i}",
                **fields,
            }
        )
        for i in range(count)
    )
    unread.changed([user.pk])
    return rows


@pytest.fixture
def customer(client):
    user = CustomerFactory()
    client.force_login(user)
    return user


def test_the_page_needs_a_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_customers_see_only_their_own_notifications_newest_first(client, customer):
    notify(CustomerFactory(), title="Someone else's")
    notify(customer, count=3)
    response = client.get(URL)
    body = response.content.decode()
    assert "Someone else" not in body
    assert body.index("Title 2") < body.index("Title 1") < body.index("Title 0")
    assert 'class="card unread"' in body


def test_unread_count_in_the_header(client, customer):
    assert "Notifications (" not in client.get("/").content.decode()
    notify(customer, count=2)
    notify(customer, read_at=timezone.now(), period_key="old")
    assert "Notifications (2)" in client.get("/").content.decode()


def test_unread_count_is_translated(client, customer):
    notify(customer)
    client.cookies["django_language"] = "zh-hans"
    assert "通知（1）" in client.get("/").content.decode()


def test_mark_all_as_read_only_touches_the_customers_own(client, customer):
    other = CustomerFactory()
    notify(other)
    notify(customer, count=3)
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302 and response.url == URL
    assert not Notification.objects.filter(user=customer, read_at__isnull=True).exists()
    assert Notification.objects.get(user=other).read_at is None
    assert "unread" not in client.get(URL).content.decode().split("<main")[1]


def test_pagination_and_query_budget_with_500_notifications(
    client, customer, django_assert_num_queries, settings
):
    settings.SESSION_ENGINE, settings.CACHE_SHARED = "core.sessions", True  # as with Redis
    notify(customer, count=500)
    client.get(URL, {"page": 2})  # the session and the unread count are cached from here on
    # user, page count, page rows
    with django_assert_num_queries(3):
        response = client.get(URL, {"page": 2})
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.num_pages == 20 and len(page.object_list) == 25
    assert "Notifications (500)" in response.content.decode()
