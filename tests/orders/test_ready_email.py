"""The order-ready email: sent once, by the task queued at fulfilment or, when that task was lost
or its send failed, by the periodic sweep."""

from datetime import timedelta
from smtplib import SMTPException

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core import audit
from orders import tasks
from orders.models import Order, Sim
from orders.services.notifications import READY_EMAIL_ACTION, send_order_ready_email
from tests.factories import OrderFactory, SimFactory

pytestmark = pytest.mark.django_db


def fulfilled(minutes_ago: float = 5, form: str = Sim.Form.ESIM) -> Order:
    order = OrderFactory(
        status=Order.Status.FULFILLED, fulfilled_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    SimFactory(owner=order.customer, issued_by_order=order, form=form)
    return order


def emails_of(order: Order) -> int:
    sent = [message for message in mail.outbox if order.number in message.subject]
    assert len(sent) == audit.entries_for(order).filter(action=READY_EMAIL_ACTION).count()
    return len(sent)


def test_the_sweep_sends_the_email_no_task_sent_once():
    order = fulfilled()
    assert tasks.send_unsent_ready_emails() == 1
    assert tasks.send_unsent_ready_emails() == 0
    assert emails_of(order) == 1 and mail.outbox[0].to == [order.customer.email]


def test_the_task_and_the_sweep_send_it_once_between_them():
    order = fulfilled()
    tasks.send_order_ready_email(order.pk)
    tasks.send_order_ready_email(order.pk)  # the broker delivered it twice
    assert tasks.send_unsent_ready_emails() == 0
    assert emails_of(order) == 1


def test_a_failed_send_gives_its_claim_back_and_the_sweep_sends_it(monkeypatch):
    order = fulfilled()
    original = EmailMultiAlternatives.send

    def refused(self, *args, **kwargs):
        raise SMTPException("421 try again later")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refused)
    with pytest.raises(SMTPException):
        tasks.send_order_ready_email(order.pk)
    assert tasks.send_unsent_ready_emails() == 0  # refused again, logged, claim given back
    order.refresh_from_db()
    assert order.ready_email_claimed_at is None and emails_of(order) == 0
    monkeypatch.setattr(EmailMultiAlternatives, "send", original)
    assert tasks.send_unsent_ready_emails() == 1 and emails_of(order) == 1


def test_the_sweep_leaves_recent_old_posted_and_already_emailed_orders():
    recent, old = fulfilled(minutes_ago=1), fulfilled(minutes_ago=3 * 24 * 60)
    posted = fulfilled(form=Sim.Form.PHYSICAL)  # its own emails say when it is shipped
    emailed = fulfilled()  # emailed before orders were claimed
    audit.record(action=READY_EMAIL_ACTION, target=emailed, note=emailed.customer.email)
    assert tasks.send_unsent_ready_emails() == 0
    assert mail.outbox == []
    claimed = Order.objects.filter(ready_email_claimed_at__isnull=False)
    assert set(claimed) == {posted, emailed}  # looked at once, not at every sweep
    assert recent not in claimed and old not in claimed


def test_a_resend_asked_for_goes_even_after_the_first():
    order = fulfilled()
    tasks.send_order_ready_email(order.pk)
    assert send_order_ready_email(order.pk, force=True)
    assert emails_of(order) == 2


def test_the_sweep_stops_when_its_time_is_up_and_goes_on_past_other_errors(monkeypatch):
    first, second = fulfilled(minutes_ago=6), fulfilled(minutes_ago=5)
    original = EmailMultiAlternatives.send
    failures = [SMTPException("421 try again later")]  # the next send's, if any

    def send(self, *args, **kwargs):
        if failures:
            raise failures.pop()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    assert tasks.send_unsent_ready_emails() == 1  # the first refused and skipped, the second sent
    assert emails_of(first) == 0 and emails_of(second) == 1
    failures.append(SoftTimeLimitExceeded())
    with pytest.raises(SoftTimeLimitExceeded):  # the task's time is up: not an item's failure
        tasks.send_unsent_ready_emails()
    assert tasks.send_unsent_ready_emails() == 1 and emails_of(first) == 1
