"""Expiry and low-data reminders: once per SIM and period, in the customer's language and way."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from accounts import reminders, sms, tasks
from accounts.models import Notification, WebhookDelivery, WebhookEndpoint
from orders.models import Sim
from portal.celery import app as celery_app
from tests.factories import CustomerFactory, PartnerFactory, SimFactory

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
EXPIRES = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()


def customer(language="en", email=True, sms_on=False, phone=""):
    user = CustomerFactory(phone=phone)
    user.profile.preferred_language = language
    user.profile.notify_by_email, user.profile.notify_by_sms = email, sms_on
    user.profile.save()
    return user


def sweep_at(moment) -> dict[str, int]:
    with time_machine.travel(moment, tick=False):
        return reminders.send_reminders()


def sent(result) -> dict[str, int]:
    return {kind: count for kind, count in result.items() if count}


def test_each_expiry_reminder_fires_once_at_the_right_time():
    sim = SimFactory(owner=customer(), expires_at=EXPIRES)
    assert sent(sweep_at(EXPIRES - timedelta(days=3, minutes=1))) == {}
    assert sent(sweep_at(EXPIRES - timedelta(days=3) + timedelta(minutes=1))) == {Kind.EXPIRY_3D: 1}
    assert sent(sweep_at(EXPIRES - timedelta(days=2))) == {}
    assert sent(sweep_at(EXPIRES - timedelta(hours=23))) == {Kind.EXPIRY_1D: 1}
    assert sent(sweep_at(EXPIRES - timedelta(hours=1))) == {}
    assert sent(sweep_at(EXPIRES + timedelta(minutes=5))) == {Kind.EXPIRED: 1}
    assert sent(sweep_at(EXPIRES + timedelta(minutes=20))) == {}
    assert [m.subject for m in mail.outbox] == [
        "Your SIM expires in 3 days",
        "Your SIM expires tomorrow",
        "Your SIM has expired",
    ]
    assert mail.outbox[0].to == [sim.owner.email]
    assert f"/sims/{sim.iccid}/renew/" in mail.outbox[0].body
    assert Notification.objects.filter(sim=sim, user=sim.owner).count() == 3


def test_a_short_plan_gets_only_the_one_day_reminder():
    SimFactory(owner=customer(), expires_at=EXPIRES)
    assert sent(sweep_at(EXPIRES - timedelta(hours=20))) == {Kind.EXPIRY_1D: 1}


def test_after_a_renewal_the_reminders_fire_again():
    sim = SimFactory(owner=customer(), expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    Sim.objects.filter(pk=sim.pk).update(expires_at=EXPIRES + timedelta(days=30))
    assert sent(sweep_at(EXPIRES - timedelta(days=2, minutes=-15))) == {}
    assert sent(sweep_at(EXPIRES + timedelta(days=28))) == {Kind.EXPIRY_3D: 1}
    keys = set(Notification.objects.filter(sim=sim).values_list("period_key", flat=True))
    assert len(keys) == 2


def test_chinese_customers_get_chinese_email_and_notification():
    SimFactory(owner=customer(language="zh-hans"), expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    [message] = mail.outbox
    assert message.subject == "您的 SIM 卡将在 3 天后到期"
    assert "请在到期前续费" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "立即续费" in html and 'lang="zh-hans"' in html
    notification = Notification.objects.get()
    assert notification.title == "您的 SIM 卡将在 3 天后到期"
    assert notification.channels == ["email"]


def test_english_customers_get_english():
    SimFactory(owner=customer(language="en"), expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(hours=2))
    [message] = mail.outbox
    assert message.subject == "Your SIM expires tomorrow"
    assert "Renew it today" in message.body and "Renew now" in message.alternatives[0][0]


def test_email_off_sends_no_email_but_keeps_the_notification():
    SimFactory(owner=customer(email=False), expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    assert mail.outbox == [] and sms.outbox == []
    assert Notification.objects.get().channels == []


def test_sms_on_with_a_phone_sends_an_sms():
    user = customer(email=False, sms_on=True, phone="+923001234567")
    sim = SimFactory(owner=user, expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    [text] = sms.outbox
    assert text["to"] == "+923001234567" and sim.iccid[-6:] in text["body"]
    assert Notification.objects.get().channels == ["sms"]


def test_sms_on_without_a_phone_sends_nothing():
    SimFactory(owner=customer(email=False, sms_on=True), expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    assert sms.outbox == []


def test_a_failing_sms_does_not_stop_the_email_or_the_row():
    user = customer(sms_on=True, phone="+923001234567")
    SimFactory(owner=user, expires_at=EXPIRES)
    failing = mock.Mock()
    failing.send.side_effect = sms.SmsError("Twilio 400 (code 21211): bad To", transient=False)
    with mock.patch.object(sms, "get_sender", return_value=failing):
        sweep_at(EXPIRES - timedelta(days=2))
    assert len(mail.outbox) == 1
    notification = Notification.objects.get()
    assert notification.channels == ["email"] and "bad To" in notification.error


def test_partner_sims_emit_webhooks_instead_of_email():
    partner = PartnerFactory()
    WebhookEndpoint.objects.create(partner=partner, url="https://hooks.partner.example/in")
    sim = SimFactory(owner=None, partner=partner, expires_at=EXPIRES, data_remaining_mb=5000)
    sweep_at(EXPIRES - timedelta(days=2))
    assert mail.outbox == []
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "sim.expiring"
    assert delivery.payload["data"]["sim"] == sim.iccid
    notification = Notification.objects.get()
    assert notification.partner == partner and notification.user is None
    assert notification.channels == ["webhook"]


def test_partner_low_data_emits_sim_low_data():
    partner = PartnerFactory()
    SimFactory(owner=None, partner=partner, expires_at=EXPIRES, data_remaining_mb=0)
    with mock.patch.object(reminders, "emit_sim_event") as emit:
        sweep_at(EXPIRES - timedelta(days=5))
    assert emit.call_args.kwargs["event_type"] == "sim.low_data"


@pytest.mark.parametrize("status", [Sim.Status.REPLACED, Sim.Status.CANCELLED])
def test_replaced_and_cancelled_sims_never_get_reminders(status):
    SimFactory(owner=customer(), expires_at=EXPIRES, status=status, data_remaining_mb=0)
    for moment in (EXPIRES - timedelta(days=2), EXPIRES - timedelta(hours=2), EXPIRES):
        assert sent(sweep_at(moment)) == {}
    assert mail.outbox == [] and not Notification.objects.exists()


def test_data_thresholds():
    sim = SimFactory(
        owner=customer(), expires_at=EXPIRES, data_total_mb=1000, data_remaining_mb=201
    )
    before = EXPIRES - timedelta(days=10)
    assert sent(sweep_at(before)) == {}
    Sim.objects.filter(pk=sim.pk).update(data_remaining_mb=200)
    assert sent(sweep_at(before)) == {Kind.DATA_80: 1}
    assert sent(sweep_at(before + timedelta(minutes=15))) == {}
    Sim.objects.filter(pk=sim.pk).update(data_remaining_mb=0)
    assert sent(sweep_at(before + timedelta(minutes=30))) == {Kind.DATA_100: 1}
    assert "200 MB of 1000 MB" in mail.outbox[0].body
    assert mail.outbox[1].subject == "Your data is used up"


def test_unlimited_and_expired_sims_get_no_data_reminders():
    SimFactory(owner=customer(), data_total_mb=None, data_remaining_mb=None)
    SimFactory(owner=customer(), expires_at=EXPIRES - timedelta(days=30), data_remaining_mb=0)
    assert sent(sweep_at(EXPIRES - timedelta(days=10))) == {}


def test_inactive_customers_get_nothing():
    user = customer()
    user.is_active = False
    user.save()
    SimFactory(owner=user, expires_at=EXPIRES)
    assert sent(sweep_at(EXPIRES - timedelta(days=2))) == {}


def test_the_unique_constraint_holds_under_a_duplicate_insert():
    sim = SimFactory(owner=customer())
    fields = dict(sim=sim, user=sim.owner, kind=Kind.EXPIRY_3D, period_key="k", title="t", body="b")
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)


def test_overlapping_sweeps_send_only_for_rows_they_inserted():
    """Two runs that both saw the SIM as due: the second one's insert is ignored, no email."""
    SimFactory(owner=customer(), expires_at=EXPIRES)
    with time_machine.travel(EXPIRES - timedelta(days=2), tick=False):
        page = list(
            reminders.due_sims(Kind.EXPIRY_3D, EXPIRES - timedelta(days=2)).values(
                *reminders.SIM_FIELDS
            )
        )
        assert reminders._process_page(Kind.EXPIRY_3D, page) == 1
        assert reminders._process_page(Kind.EXPIRY_3D, page) == 0
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_the_task_runs_the_sweeps_and_is_scheduled():
    SimFactory(owner=customer(), expires_at=EXPIRES)
    with time_machine.travel(EXPIRES - timedelta(days=2), tick=False):
        result = tasks.send_reminders.delay().get()
    assert result[Kind.EXPIRY_3D] == 1
    entry = celery_app.conf.beat_schedule["send-reminders"]
    assert entry == {"task": "accounts.tasks.send_reminders", "schedule": 900.0}


def test_a_failing_email_does_not_stop_the_sms_or_the_next_reminder():
    user = customer(sms_on=True, phone="+923001234567")
    SimFactory(owner=user, expires_at=EXPIRES)
    SimFactory(owner=customer(), expires_at=EXPIRES)
    real_email = reminders._email
    calls = []

    def flaky(notification, *args):
        calls.append(notification.pk)
        if len(calls) == 1:
            raise OSError("SMTP down")
        return real_email(notification, *args)

    with mock.patch.object(reminders, "_email", side_effect=flaky):
        assert sent(sweep_at(EXPIRES - timedelta(days=2))) == {Kind.EXPIRY_3D: 2}
    first, second = Notification.objects.order_by("pk")
    assert first.channels == ["sms"] and "SMTP down" in first.error
    assert second.channels == ["email"] and len(mail.outbox) == 1 and len(sms.outbox) == 1
