"""The header's unread count is kept in the shared cache: every write that changes a user's
unread notifications shows on their next page, and pages in between count nothing."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Notification, Sim
from orders.notifications import reminders
from tests.factories import CustomerFactory, SimFactory
from tests.silent_writes import app_sources, silent_writes

pytestmark = pytest.mark.django_db
EXPIRES = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def customer(client, settings):
    settings.CACHE_SHARED = True
    user = CustomerFactory()
    client.force_login(user)
    return user


def header(client) -> str:
    body = client.get(reverse("sims:list")).content.decode()
    return body.split("<main")[0]


def counted(client) -> bool:
    """Whether a page counted the unread notifications in the database."""
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("sims:list"))
    return any("accounts_notification" in query["sql"] for query in queries)


def notification(user, **fields) -> Notification:
    fields = {"kind": Notification.Kind.EXPIRY_3D, "title": "T", "body": "B", **fields}
    return Notification.objects.create(user=user, period_key=f"p-{fields['kind']}", **fields)


def test_pages_keep_the_count_until_it_changes(client, customer):
    notification(customer)
    assert "Notifications (1)" in header(client)
    assert not counted(client)
    notification(customer, kind=Notification.Kind.EXPIRY_1D)
    assert "Notifications (2)" in header(client)


def test_the_reminder_sweep_shows_on_the_next_page(client, customer):
    SimFactory(owner=customer, expires_at=EXPIRES)
    with time_machine.travel(EXPIRES - timedelta(days=2), tick=False):
        assert "Notifications (" not in header(client)
        assert sum(reminders.send_reminders().values()) == 1
        assert "Notifications (1)" in header(client)


def test_mark_all_as_read_shows_on_the_next_page(client, customer):
    notification(customer)
    assert "Notifications (1)" in header(client)
    client.post(reverse("notifications:mark_all_read"))
    assert "Notifications (" not in header(client)


def test_a_deleted_sim_takes_its_notifications_off_the_count(client, customer):
    sim = SimFactory(owner=customer)
    notification(customer, sim=sim)
    assert "Notifications (1)" in header(client)
    Sim.objects.filter(pk=sim.pk).delete()
    assert "Notifications (" not in header(client)


def test_another_users_change_leaves_the_count(client, customer):
    notification(customer)
    header(client)
    notification(CustomerFactory())
    assert not counted(client)


def test_without_the_cache_pages_count(client, customer, settings):
    notification(customer)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    location = f"redis://127.0.0.1:{port}/0"
    header(client)
    settings.CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": location}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    notification(customer, kind=Notification.Kind.EXPIRY_1D)
    assert "Notifications (2)" in header(client)


def silent_notification_writes(source: str) -> list[int]:
    """Lines of ``source`` writing notifications without signals, unless it retires counts."""
    return silent_writes(source, {"Notification", "notifications"}, "unread.changed(")


def test_app_code_writes_notifications_with_signals_or_retires_the_counts():
    found = [
        f"{path}:{line}"
        for path, source in app_sources()
        for line in silent_notification_writes(source)
    ]
    assert not found, "call orders.notifications.unread.changed() after these writes"


def test_the_check_catches_silent_writes():
    assert silent_notification_writes("Notification.objects.filter(pk=1).update(x=1)") == [1]
    assert silent_notification_writes("user.notifications.update(read_at=now)") == [1]
    assert silent_notification_writes("Notification.objects.bulk_create(rows)") == [1]
    assert silent_notification_writes("Sim.objects.filter(pk=1).update(status='x')") == []
    retired = "Notification.objects.update(read_at=now)\nunread.changed([1])"
    assert silent_notification_writes(retired) == []
