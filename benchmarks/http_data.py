"""The HTTP benchmark's data: the test worlds' catalog, partner (API key, funded wallet) and
customer; then, with COPY, 10,000 (times ``--scale``) fulfilled partner orders with their SIMs
and wallet debits, and 25 of the customer's; the ceiling's table; a session for the customer."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone

from benchmarks.admin_scale_data import copy_rows, iccid, next_id, order_number, reset_sequences
from benchmarks.ceiling.schema import create_table_sql
from orders.models import Order, Sim, WalletEntry
from plans.models import Plan, PlanKind
from tests.factories import WalletEntryFactory
from tests.worlds import (
    PARTNER_KEY_PREFIX,
    PARTNER_KEY_SECRET,
    build_catalog,
    build_customer,
    build_partner,
)

PARTNER_ORDERS = 10_000
CUSTOMER_SIMS = 25
ORDER_COLUMNS = [
    *("id", "number", "kind", "status", "partner_id", "customer_id", "plan_id", "currency"),
    *("subtotal", "total", "customer_reference", "created_at", "updated_at", "paid_at"),
    *("fulfilled_at", "issued_iccids"),
]
SIM_COLUMNS = [
    *("id", "iccid", "msisdn", "operator_id", "provider_id", "owner_id", "partner_id"),
    *("issued_by_order_id", "current_plan_id", "status", "activation_code", "data_total_mb"),
    *("data_remaining_mb", "expires_at", "created_at", "updated_at"),
]
WALLET_COLUMNS = ["partner_id", "kind", "amount", "currency", "order_id", "created_at"]


def issued(plan: Plan, count: int, *, partner=None, customer=None, first: int = 0) -> None:
    """``count`` fulfilled orders of ``plan``, one a minute up to now, each with its SIM
    (recorded on the order, as fulfilment does) and, for a partner's, its wallet debit."""
    order_base, sim_base = next_id(Order), next_id(Sim)
    price = plan.prices.get(currency="PKR").amount
    now = timezone.now()
    at = [now - timedelta(minutes=count - i) for i in range(count)]
    holder = (partner and partner.pk, customer and customer.pk)
    order_rows = (
        (
            *(order_base + i, order_number(first + i), Order.Kind.PURCHASE, Order.Status.FULFILLED),
            *(*holder, plan.pk, "PKR", price, price, f"old-{first + i}", at[i], at[i], at[i]),
            *(at[i], iccid(first + i)),
        )
        for i in range(count)
    )
    copy_rows(Order, ORDER_COLUMNS, order_rows)
    sim_rows = (
        (
            *(sim_base + i, iccid(first + i), f"+92310{first + i:07d}", plan.operator_id),
            *(plan.provider_id, *reversed(holder), order_base + i, plan.pk, Sim.Status.ACTIVE),
            *(f"LPA:1$smdp.example${first + i}", plan.data_mb, plan.data_mb // 2),
            *(at[i] + timedelta(days=30), at[i], at[i]),
        )
        for i in range(count)
    )
    copy_rows(Sim, SIM_COLUMNS, sim_rows)
    if partner:
        debit = WalletEntry.Kind.ORDER_DEBIT
        rows = ((partner.pk, debit, -price, "PKR", order_base + i, at[i]) for i in range(count))
        copy_rows(WalletEntry, WALLET_COLUMNS, rows)
    reset_sequences()


def build(scale: int) -> dict:
    """Migrate and build everything; what the load needs (API key, plan, session cookie)."""
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    build_catalog()
    partner, customer = build_partner(), build_customer()
    WalletEntryFactory(partner=partner, amount=Decimal("1000000000"), reason="Benchmark top-up")
    plan = Plan.objects.filter(kind=PlanKind.ESIM, operator__code="jazz").order_by("pk").first()
    issued(plan, PARTNER_ORDERS * scale, partner=partner)
    issued(plan, CUSTOMER_SIMS, customer=customer, first=PARTNER_ORDERS * scale)
    with connection.cursor() as cursor:
        cursor.execute(create_table_sql(PARTNER_ORDERS * scale))
        cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(customer)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "api_key": f"{PARTNER_KEY_PREFIX}.{PARTNER_KEY_SECRET}",
        "plan": plan.pk,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
    }


def finished_orders(label: str) -> tuple[int, int]:
    """(done, fulfilled) of the orders whose customer reference starts with ``label-``."""
    finished = [Order.Status.FULFILLED, Order.Status.NEEDS_ATTENTION, Order.Status.REFUNDED]
    done = Order.objects.filter(customer_reference__startswith=f"{label}-", status__in=finished)
    fulfilled = Count("pk", filter=Q(status=Order.Status.FULFILLED))
    counts = done.aggregate(done=Count("pk"), fulfilled=fulfilled)  # one query a poll
    return counts["done"], counts["fulfilled"]
