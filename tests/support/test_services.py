"""The support services: opening, replying, notes, assignment, closing, rating, and emails."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.audit import entries_for
from orders.models import Notification
from support import services, tasks
from support.attachments import read_screenshot
from support.errors import SupportError
from support.models import Attachment, Conversation, Message
from tests.factories import CustomerFactory, OrderFactory, PartnerFactory, SimFactory, UserFactory
from tests.support.conftest import screenshot_file

pytestmark = pytest.mark.django_db


def open_one(customer, **fields):
    return services.open_conversation(
        customer=customer, category="no_data", body="No data after installing", **fields
    )


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, email="agent@paksim.example")


def test_opening_links_the_order_and_its_sim_stores_screenshots_and_emails_staff(
    customer, django_capture_on_commit_callbacks, settings
):
    settings.SUPPORT_INBOX_EMAIL = "inbox@paksim.example"
    sim = SimFactory(owner=customer)
    order = OrderFactory(customer=customer, sim=sim)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = open_one(
            customer, order_number=order.number, screenshots=[screenshot_file()]
        )
    assert conversation.order == order and conversation.sim == sim
    assert conversation.status == Conversation.Status.OPEN and conversation.waiting_since
    assert conversation.subject == "No data after installing"
    stored = Attachment.objects.get()
    assert stored.content_type == "image/jpeg" and stored.message.conversation == conversation
    assert [m.to for m in mail.outbox] == [["inbox@paksim.example"]]
    assert order.number in mail.outbox[0].body
    assert entries_for(conversation).filter(action="support.opened").exists()


def test_another_customers_order_or_sim_is_refused_and_nothing_is_created(customer):
    with pytest.raises(SupportError) as refused:
        open_one(customer, order_number=OrderFactory(customer=CustomerFactory()).number)
    assert refused.value.code == "order_not_found"
    with pytest.raises(SupportError) as refused:
        open_one(customer, iccid=SimFactory(owner=CustomerFactory()).iccid)
    assert refused.value.code == "sim_not_found"
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_bad_screenshot_is_refused_before_anything_is_stored(customer):
    fake = screenshot_file()
    fake.file.seek(0, 2)
    fake.file.write(b"<script>alert(1)</script>")
    fake.file.seek(0)
    fake.size = len(fake.file.getvalue())
    with pytest.raises(SupportError) as refused:
        open_one(customer, screenshots=[fake])
    assert refused.value.code == "suspicious_content" and refused.value.field == "screenshots"
    with pytest.raises(SupportError) as refused:
        open_one(customer, screenshots=[screenshot_file() for _ in range(4)])
    assert refused.value.code == "too_many_screenshots"
    assert not Conversation.objects.exists() and not Attachment.objects.exists()


def test_staff_answer_clears_the_wait_and_emails_the_customer_once_in_their_language(
    customer, staff, django_capture_on_commit_callbacks
):
    customer.profile.preferred_language = "en"
    customer.profile.save()
    conversation = open_one(customer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.staff_reply(conversation=conversation, staff=staff, body="Turn roaming on")
    conversation.refresh_from_db()
    assert conversation.waiting_since is None and conversation.assigned_to == staff
    assert conversation.unread_reply
    (email,) = mail.outbox
    assert email.to == [customer.email] and "Turn roaming on" in email.body
    assert "support answered" in email.subject and f"/support/{conversation.pk}/" in email.body
    from support.tasks import notify_customer

    assert notify_customer(reply.pk) is False  # run twice: sent once
    assert len(mail.outbox) == 1


def test_chinese_customers_get_the_email_in_chinese(
    customer, staff, django_capture_on_commit_callbacks
):
    conversation = open_one(customer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(conversation=conversation, staff=staff, body="请打开数据漫游")
    assert "客服" in mail.outbox[0].subject


def test_staff_answer_is_an_in_site_notice_in_the_customers_language_linking_the_thread(
    client, customer, staff
):
    customer.profile.preferred_language = "zh-hant"
    customer.profile.save()
    conversation = open_one(customer, subject="没有网络")
    services.staff_reply(conversation=conversation, staff=staff, body="请打开数据漫游")
    services.staff_reply(conversation=conversation, staff=staff, body="VIP", internal=True)
    (notice,) = Notification.objects.filter(user=customer)
    assert notice.kind == Notification.Kind.SUPPORT_REPLY and "客服已回覆" in notice.title
    page = client.get("/notifications/").content.decode()
    assert "请打开数据漫游" in page and "VIP" not in page
    assert f'href="http://testserver/support/{conversation.pk}/"' in page or (
        f"/support/{conversation.pk}/" in page
    )


def test_a_partners_conversation_has_no_in_site_notice(staff):
    partner = PartnerFactory()
    conversation = services.open_conversation(
        partner=partner, category="other", body="Where is the order?"
    )
    services.staff_reply(conversation=conversation, staff=staff, body="On its way")
    assert not Notification.objects.exists()


def test_a_failed_send_gives_the_claim_back(customer, staff, monkeypatch):
    conversation = open_one(customer)
    message = services.staff_reply(conversation=conversation, staff=staff, body="Hello")
    Message.objects.filter(pk=message.pk).update(notified_at=None)
    from support import notifications

    def broken(self):
        raise OSError("smtp down")

    monkeypatch.setattr(notifications.EmailMultiAlternatives, "send", broken)
    with pytest.raises(OSError):
        notifications.email_customer(message.pk)
    message.refresh_from_db()
    assert message.notified_at is None


def test_the_sweep_sends_what_was_not_sent_once_its_first_send_had_time(
    customer, staff, time_machine
):
    """A lost or failed send (no task ran) is sent by the periodic sweep, each message once;
    internal notes never."""
    from support import notifications
    from support.tasks import send_unsent_emails

    time_machine.move_to(timezone.now(), tick=False)
    conversation = open_one(customer)  # its email to staff is lost: no commit callbacks run
    answer = services.staff_reply(conversation=conversation, staff=staff, body="Turn roaming on")
    services.staff_reply(conversation=conversation, staff=staff, body="VIP", internal=True)
    mail.outbox.clear()
    assert send_unsent_emails() == 0  # too early: their first sends may still be on the way
    time_machine.shift(notifications.RESEND_AFTER)
    assert send_unsent_emails() == 2
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        [customer.email, settings.SUPPORT_INBOX_EMAIL]
    )
    assert "Turn roaming on" in next(e.body for e in mail.outbox if e.to == [customer.email])
    assert send_unsent_emails() == 0
    answer.refresh_from_db()
    assert answer.notified_at is not None


def test_internal_notes_keep_the_wait_and_send_nothing(
    customer, staff, django_capture_on_commit_callbacks
):
    conversation = open_one(customer)
    waiting = conversation.waiting_since
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_reply(conversation=conversation, staff=staff, body="VIP", internal=True)
    conversation.refresh_from_db()
    assert conversation.waiting_since == waiting and not conversation.unread_reply
    assert mail.outbox == []


def test_a_reply_reopens_a_closed_conversation_and_rating_is_once(customer, staff):
    conversation = open_one(customer)
    services.staff_reply(conversation=conversation, staff=staff, body="Fixed")
    with pytest.raises(SupportError):
        services.rate(conversation=conversation, customer=customer, score=5)
    services.close(conversation=conversation, actor=customer)
    services.close(conversation=conversation, actor=customer)  # twice: nothing more
    assert entries_for(conversation).filter(action="support.closed").count() == 1
    services.customer_reply(conversation=conversation, customer=customer, body="Again broken")
    assert conversation.status == Conversation.Status.OPEN and conversation.waiting_since
    assert entries_for(conversation).filter(action="support.reopened").exists()
    services.close(conversation=conversation, actor=customer)
    with pytest.raises(SupportError) as refused:
        services.rate(conversation=conversation, customer=customer, score=9)
    assert refused.value.code == "rating_invalid"
    services.rate(conversation=conversation, customer=customer, score=4, comment="Quick")
    with pytest.raises(SupportError) as refused:
        services.rate(conversation=conversation, customer=customer, score=1)
    assert refused.value.code == "already_rated"
    assert conversation.rating == 4 and conversation.rating_comment == "Quick"


def test_assignment_is_to_active_staff_and_audited(customer, staff):
    conversation = open_one(customer)
    with pytest.raises(SupportError):
        services.assign(conversation=conversation, assignee=customer, actor=staff)
    services.assign(conversation=conversation, assignee=staff, actor=staff)
    assert conversation.assigned_to == staff
    assert entries_for(conversation).filter(action="support.assigned").count() == 1


def test_partners_open_about_their_own_orders_only(django_capture_on_commit_callbacks):
    partner = PartnerFactory()
    own = OrderFactory(partner=partner, customer=None)
    with pytest.raises(SupportError):
        services.open_conversation(
            partner=partner,
            category="payment",
            body="?",
            order_number=OrderFactory(partner=PartnerFactory(), customer=None).number,
        )
    conversation = services.open_conversation(
        partner=partner, category="payment", body="Where is it?", order_number=own.number
    )
    assert conversation.partner == partner and conversation.customer is None


@pytest.mark.real_clock  # a file's age comes from its modification time, on the machine's clock
def test_screenshots_of_a_message_that_rolled_back_are_swept_after_a_day(customer, tmp_path):
    kept = open_one(customer, screenshots=[screenshot_file()])
    with pytest.raises(RuntimeError), transaction.atomic():
        open_one(customer, screenshots=[screenshot_file(), screenshot_file()])
        raise RuntimeError("a later step of the same request failed")
    stored = sorted(path.name for path in (tmp_path / "media" / "support").iterdir())
    attachment = Attachment.objects.get()
    assert len(stored) == 3 and attachment.message.conversation == kept
    assert tasks.delete_orphan_screenshots() == 0  # a request may still be committing them
    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        assert tasks.delete_orphan_screenshots() == 2
    remaining = [path.name for path in (tmp_path / "media" / "support").iterdir()]
    assert remaining == [attachment.file.name.split("/")[1]]
    assert read_screenshot(attachment)


def test_screenshots_are_re_encrypted_when_the_keys_rotate(customer, settings):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.IDENTITY_DOCUMENT_KEYS = [key_a]
    open_one(customer, screenshots=[screenshot_file()])
    attachment = Attachment.objects.get()
    plain, old_name = read_screenshot(attachment), attachment.file.name
    settings.IDENTITY_DOCUMENT_KEYS = [key_b, key_a]
    out = io.StringIO()
    call_command("rotate_document_keys", stdout=out)
    assert "0 identity documents and 1 support screenshots" in out.getvalue()
    attachment.refresh_from_db()
    assert attachment.file.name != old_name and not default_storage.exists(old_name)
    settings.IDENTITY_DOCUMENT_KEYS = [key_b]  # the old key dropped: still readable
    assert read_screenshot(attachment) == plain
