"""Expiry and low-data reminders: once per SIM and period, in the customer's language and way."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import sms
from orders import tasks
from orders.models import Notification, Sim, WebhookDelivery, WebhookEndpoint
from orders.notifications import reminders
from portal.celery import app as celery_app
from tests.factories import CustomerFactory, PartnerFactory, SimFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evening_before_new_year")]
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


def test_reminders_name_the_sim_by_its_national_number():
    SimFactory(owner=customer(), msisdn="+923001234567", expires_at=EXPIRES)
    sweep_at(EXPIRES - timedelta(days=2))
    [email] = mail.outbox
    assert "0300 1234567" in email.body and "+923001234567" not in email.body


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
    assert notification.sent_at is not None  # a permanent SMS error is not retried


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


def test_a_sweep_whose_time_is_up_stops_and_its_rows_are_sent_later():
    SimFactory(owner=customer(), expires_at=EXPIRES)
    SimFactory(owner=customer(), expires_at=EXPIRES)
    time_up = mock.patch.object(reminders, "_email", side_effect=SoftTimeLimitExceeded())
    with time_up as email, pytest.raises(SoftTimeLimitExceeded):
        sweep_at(EXPIRES - timedelta(days=2))
    assert email.call_count == 1 and mail.outbox == []  # not one failed email, the whole run
    assert sent(sweep_at(EXPIRES - timedelta(days=2) + timedelta(minutes=11))) == {"resent": 2}
    assert len(mail.outbox) == 2


# At-least-once delivery: a row not recorded as sent is claimed again after the grace period.

DUE = EXPIRES - timedelta(days=2)  # inside the 3-day window


def crash_sweep_at(moment):
    """A sweep whose worker dies after inserting the rows and before sending anything."""
    crash = mock.patch.object(reminders, "_deliver", side_effect=RuntimeError("worker killed"))
    with crash, pytest.raises(RuntimeError):
        sweep_at(moment)


def test_a_reminder_lost_to_a_crash_is_sent_after_the_grace_period_and_not_before():
    sim = SimFactory(owner=customer(), expires_at=EXPIRES)
    crash_sweep_at(DUE)
    notification = Notification.objects.get()
    assert mail.outbox == [] and notification.sent_at is None and notification.claims == 1
    assert sent(sweep_at(DUE + timedelta(minutes=9))) == {}
    assert mail.outbox == []
    with time_machine.travel(DUE + timedelta(minutes=11), tick=False):
        assert tasks.send_reminders.delay().get()["resent"] == 1
    [message] = mail.outbox
    assert message.subject == "Your SIM expires in 3 days" and message.to == [sim.owner.email]
    notification.refresh_from_db()
    assert notification.sent_at == DUE + timedelta(minutes=11)
    assert notification.channels == ["email"] and notification.claims == 2
    assert sent(sweep_at(DUE + timedelta(hours=1))) == {}
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_the_grace_period_is_a_setting(settings):
    settings.REMINDER_RESEND_AFTER_MINUTES = 30
    SimFactory(owner=customer(), expires_at=EXPIRES)
    crash_sweep_at(DUE)
    assert sent(sweep_at(DUE + timedelta(minutes=29))) == {}
    assert sent(sweep_at(DUE + timedelta(minutes=31))) == {"resent": 1}
    assert len(mail.outbox) == 1


def test_a_delivered_reminder_is_never_sent_again():
    SimFactory(owner=customer(), expires_at=EXPIRES)
    assert sent(sweep_at(DUE)) == {Kind.EXPIRY_3D: 1}
    notification = Notification.objects.get()
    assert notification.sent_at == DUE
    for minutes in (11, 30, 120):
        assert sent(sweep_at(DUE + timedelta(minutes=minutes))) == {}
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.claims == 1


def test_two_sweeps_racing_for_an_undelivered_row_send_it_once():
    SimFactory(owner=customer(), expires_at=EXPIRES)
    crash_sweep_at(DUE)
    pk = Notification.objects.get().pk
    with time_machine.travel(DUE + timedelta(minutes=11), tick=False):
        cutoff = DUE + timedelta(minutes=1)
        first_run, first = reminders.claim_for_resend([pk], cutoff)
        second_run, second = reminders.claim_for_resend([pk], cutoff)
        assert [n.pk for n in first] == [pk] and second == []
        assert reminders._resend(first, first_run) == 1
        assert reminders._resend(second, second_run) == 0
        assert sent(reminders.send_reminders()) == {}
    assert len(mail.outbox) == 1
    assert Notification.objects.get().claims == 2


def test_a_sweep_whose_claim_was_taken_over_does_not_send():
    """A slow sweep's lease ran out and a later one claimed the row: only the later one sends."""
    SimFactory(owner=customer(), expires_at=EXPIRES)
    crash_sweep_at(DUE)
    pk = Notification.objects.get().pk
    with time_machine.travel(DUE + timedelta(minutes=11), tick=False):
        slow_run, slow = reminders.claim_for_resend([pk], DUE + timedelta(minutes=1))
    with time_machine.travel(DUE + timedelta(minutes=22), tick=False):
        late_run, late = reminders.claim_for_resend([pk], DUE + timedelta(minutes=12))
        assert reminders._resend(slow, slow_run) == 0
        assert reminders._resend(late, late_run) == 1
    assert len(mail.outbox) == 1


def test_after_the_last_claim_the_reminder_is_given_up_and_logged(caplog):
    SimFactory(owner=customer(), expires_at=EXPIRES)
    failing = mock.patch.object(reminders, "_email", side_effect=OSError("SMTP down"))
    with failing as email:
        sweep_at(DUE)
        assert sent(sweep_at(DUE + timedelta(minutes=11))) == {"resent": 1}
        assert sent(sweep_at(DUE + timedelta(minutes=22))) == {"resent": 1}
        assert email.call_count == reminders.MAX_CLAIMS == 3
        with caplog.at_level("ERROR", logger="orders.notifications.reminders"):
            assert sent(sweep_at(DUE + timedelta(minutes=33))) == {}
            assert sent(sweep_at(DUE + timedelta(minutes=44))) == {}
        assert email.call_count == 3
    [record] = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert "after 3 attempts" in record.getMessage() and "SMTP down" in record.getMessage()
    notification = Notification.objects.get()
    assert notification.sent_at is None and notification.claimed_at is None
    assert notification.claims == 3
    assert mail.outbox == []


def test_an_email_backend_error_leaves_the_row_for_a_retry_without_repeating_the_sms():
    SimFactory(owner=customer(sms_on=True, phone="+923001234567"), expires_at=EXPIRES)
    backend = "django.core.mail.backends.locmem.EmailBackend.send_messages"
    with mock.patch(backend, side_effect=ConnectionRefusedError("SMTP refused")):
        assert sent(sweep_at(DUE)) == {Kind.EXPIRY_3D: 1}
    notification = Notification.objects.get()
    assert notification.sent_at is None and notification.channels == ["sms"]
    assert "SMTP refused" in notification.error
    assert mail.outbox == [] and len(sms.outbox) == 1
    assert sent(sweep_at(DUE + timedelta(minutes=11))) == {"resent": 1}
    notification.refresh_from_db()
    assert notification.sent_at is not None and notification.error == ""
    assert notification.channels == ["sms", "email"]
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


def test_a_transient_sms_error_is_retried_and_a_permanent_one_is_not():
    SimFactory(owner=customer(email=False, sms_on=True, phone="+923001234567"), expires_at=EXPIRES)
    flaky = mock.Mock()
    flaky.send.side_effect = sms.SmsError("Twilio 503", transient=True)
    with mock.patch.object(sms, "get_sender", return_value=flaky):
        sweep_at(DUE)
    assert Notification.objects.get().sent_at is None
    sweep_at(DUE + timedelta(minutes=11))
    assert len(sms.outbox) == 1 and Notification.objects.get().sent_at is not None


def test_partner_webhook_reminders_are_retried_the_same_way():
    partner = PartnerFactory()
    WebhookEndpoint.objects.create(partner=partner, url="https://hooks.partner.example/in")
    SimFactory(owner=None, partner=partner, expires_at=EXPIRES, data_remaining_mb=5000)
    crash_sweep_at(DUE)
    assert not WebhookDelivery.objects.exists()
    assert sent(sweep_at(DUE + timedelta(minutes=5))) == {}
    assert sent(sweep_at(DUE + timedelta(minutes=11))) == {"resent": 1}
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "sim.expiring"
    notification = Notification.objects.get()
    assert notification.channels == ["webhook"] and notification.sent_at is not None


def test_a_reminder_that_no_longer_applies_is_not_sent_again():
    sim = SimFactory(owner=customer(), expires_at=EXPIRES)
    crash_sweep_at(DUE)
    Sim.objects.filter(pk=sim.pk).update(expires_at=EXPIRES + timedelta(days=30))
    assert sent(sweep_at(DUE + timedelta(minutes=11))) == {}
    assert mail.outbox == []
    assert Notification.objects.get(sim=sim, kind=Kind.EXPIRY_3D).claimed_at is None


def test_a_sweep_runs_as_many_queries_for_40_due_sims_as_for_8():
    """Claims, outcomes and partner webhook rows are written per chunk, not per reminder."""
    partner = PartnerFactory()
    WebhookEndpoint.objects.create(partner=partner, url="https://hooks.partner.example/in")

    def queries_for(count: int) -> int:
        for n in range(count):
            holder = {"owner": None, "partner": partner} if n % 4 == 3 else {"owner": customer()}
            SimFactory(expires_at=EXPIRES, data_remaining_mb=5000, **holder)
        with CaptureQueriesContext(connection) as queries:
            assert sent(sweep_at(DUE)) == {Kind.EXPIRY_3D: count}
        Notification.objects.all().delete()
        Sim.objects.all().delete()
        return len(queries)

    few, many = queries_for(8), queries_for(40)
    assert few == many <= 25
    assert WebhookDelivery.objects.count() == 2 + 10
    assert len(mail.outbox) == 6 + 30
