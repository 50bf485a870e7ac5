"""The order pages: owner-only access, history, receipts, resend, live status, query budgets."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from orders.services.notifications import READY_EMAIL_ACTION
from orders.services.placing import place_purchase
from orders.services.refunds import refund_order
from orders.site.checkout import RESEND_COOLDOWN_SECONDS
from tests.clock import site_date

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evening_before_new_year")]
PAGES = ["detail", "pay", "status", "receipt"]


@pytest.mark.parametrize("name", [*PAGES, "resend"])
def test_another_customers_order_is_not_found(client, ready_order, stranger, name):
    client.force_login(stranger)
    url = reverse(f"orders:{name}", args=[ready_order.number])
    response = client.post(url) if name == "resend" else client.get(url)
    assert response.status_code == 404
    assert len(mail.outbox) == 1


def test_partner_orders_are_not_on_the_site(shopper, catalog, esim_plan, world_partner):
    order = place_purchase(plan=esim_plan, partner=world_partner, idempotency_key="k1")
    assert shopper.get(reverse("orders:detail", args=[order.number])).status_code == 404


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, ready_order, name):
    client.logout()
    url = reverse(f"orders:{name}", args=[ready_order.number])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"
    assert client.get(reverse("orders:list"))["Location"].startswith(reverse("account_login"))
    response = client.post(reverse("orders:resend", args=[ready_order.number]))
    assert response.status_code == 302 and len(mail.outbox) == 1


def make_orders(customer, plan, count: int) -> list[Order]:
    orders = [
        Order(
            kind=Order.Kind.PURCHASE,
            customer=customer,
            plan=plan,
            currency="PKR",
            subtotal=Decimal(563),
            total=Decimal(563),
            status=Order.Status.FULFILLED if n % 2 else Order.Status.PAYMENT_FAILED,
        )
        for n in range(count)
    ]
    return Order.objects.bulk_create(orders)


def test_order_history_lists_newest_first_with_badges(shopper, customer, stranger, esim_plan):
    orders = make_orders(customer, esim_plan, 25)
    make_orders(stranger, esim_plan, 3)
    response = shopper.get(reverse("orders:list"))
    page = response.context["page"]
    assert page.paginator.count == 25 and len(page.object_list) == 20
    assert page.object_list[0] == orders[-1]
    body = response.content.decode()
    assert '<span class="badge fulfilled">Ready</span>' in body
    assert '<span class="badge payment_failed">Payment failed</span>' in body
    assert "Page 1 of 2" in body and "?page=2" in body
    second = shopper.get(reverse("orders:list"), {"page": 2}).context["page"]
    assert list(second.object_list) == orders[4::-1]


def test_empty_order_history_links_to_the_catalog(shopper):
    body = shopper.get(reverse("orders:list")).content.decode()
    assert "You have no orders yet." in body and f'href="{reverse("plans:list")}"' in body


@pytest.mark.parametrize("count", [5, 500])
def test_order_history_query_count_is_constant(
    shopper, customer, esim_plan, count, django_assert_max_num_queries
):
    make_orders(customer, esim_plan, count)
    # 5 = 4 for the page + 1 for the unread-notification count in the header
    with django_assert_max_num_queries(5):
        response = shopper.get(reverse("orders:list"))
    assert response.context["page"].paginator.count == count


@pytest.mark.parametrize("count", [5, 500])
def test_order_page_query_count_is_constant(
    shopper, ready_order, customer, esim_plan, count, django_assert_max_num_queries
):
    make_orders(customer, esim_plan, count)
    # 5 = 4 for the page + 1 for the unread-notification count in the header
    with django_assert_max_num_queries(5):
        assert shopper.get(reverse("orders:detail", args=[ready_order.number])).status_code == 200


def test_receipt_shows_items_amounts_payment_and_refunds(shopper, ready_order):
    refund_order(order=ready_order, amount=Decimal("100"), reason="goodwill")
    response = shopper.get(reverse("orders:receipt", args=[ready_order.number]))
    body = response.content.decode()
    assert ready_order.number in body and site_date(ready_order.paid_at) in body
    assert "Jazz Weekly 10 GB" in body and "PKR 563.00" in body
    assert "Card (test gateway, no real money)" in body
    assert "Refunds" in body and "PKR 100.00" in body


def test_receipt_waits_for_payment(shopper, buy, esim_plan):
    order = buy(esim_plan)
    response = shopper.get(reverse("orders:receipt", args=[order.number]))
    assert response["Location"] == reverse("orders:detail", args=[order.number])


def test_resend_sends_the_ready_email_again(shopper, ready_order):
    assert len(mail.outbox) == 1
    response = shopper.post(reverse("orders:resend", args=[ready_order.number]), follow=True)
    assert "We sent the email again to customer@paksim.example." in response.content.decode()
    assert len(mail.outbox) == 2 and mail.outbox[1].subject == mail.outbox[0].subject
    assert ready_order.audit_entries().filter(action=READY_EMAIL_ACTION).count() == 2


def test_resend_waits_a_few_minutes_between_emails(shopper, ready_order, time_machine, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    url = reverse("orders:resend", args=[ready_order.number])
    time_machine.move_to(timezone.now(), tick=False)
    shopper.post(url)
    response = shopper.post(url, follow=True)
    assert "We sent it a moment ago" in response.content.decode()
    assert len(mail.outbox) == 2  # the ready email and one resend
    time_machine.shift(RESEND_COOLDOWN_SECONDS + 1)
    shopper.post(url)
    assert len(mail.outbox) == 3


def test_resend_needs_a_ready_order(shopper, buy, esim_plan):
    order = buy(esim_plan)
    response = shopper.post(reverse("orders:resend", args=[order.number]), follow=True)
    assert "The email is sent once the order is ready." in response.content.decode()
    assert mail.outbox == []
    assert shopper.get(reverse("orders:resend", args=[order.number])).status_code == 405


@pytest.mark.parametrize(
    ("status", "text", "live"),
    [
        ("paid", "Payment received", True),
        ("provisioning", "being set up", True),
        ("needs_attention", "We are on it and will email you", False),
        ("cancelled", "This order was cancelled.", False),
        ("refunded", "This order was refunded.", False),
    ],
)
def test_status_in_plain_language(shopper, buy, esim_plan, status, text, live):
    order = buy(esim_plan)
    Order.objects.filter(pk=order.pk).update(status=status)
    body = shopper.get(reverse("orders:status", args=[order.number])).content.decode()
    assert text in body
    assert ("data-poll-url" in body) is live
    if status == "needs_attention":
        assert 'href="mailto:support@paksim.example"' in body


def test_order_page_speaks_chinese(shopper, ready_order):
    body = shopper.get(
        reverse("orders:detail", args=[ready_order.number]),
        headers={"accept-language": "zh-CN,zh;q=0.9"},
    ).content.decode()
    assert "已就绪" in body and "您的 eSIM 已就绪" in body
