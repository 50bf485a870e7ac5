"""The admin benchmark's data set, written with PostgreSQL ``COPY`` (explicit ids, no triggers).

Deterministic: order ``i`` of ``n`` is placed at ``START + i * span / n``; its buyer, kind and
status follow from ``i``. Every tenth order issues a SIM (SIM ``j`` comes from order ``10 j``),
renewals renew an earlier SIM, every fifth order is a partner's (paid from its wallet), every
order has a payment and an audit entry.
"""

import json
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from accounts.models import Partner, User
from core.models import AuditEntry
from core.validators import luhn_check_digit
from orders.models import Order, Payment, Sim, WalletEntry
from plans.models import Operator, Plan, Provider

CUSTOMERS = 50_000
PARTNERS = 200
SPAN = timedelta(days=730)
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
STATUSES = [  # (share in 1000, status), in order
    (5, Order.Status.NEEDS_ATTENTION),
    (30, Order.Status.AWAITING_PAYMENT),
    (20, Order.Status.PAYMENT_FAILED),
    (50, Order.Status.CANCELLED),
    (30, Order.Status.REFUNDED),
    (5, Order.Status.PAID),
]
ACTIONS = ["order.placed", "order.status", "payment.status", "admin.order.changed"]


def order_number(i: int) -> str:
    """A unique order number such as ``PK-2222223A`` for order ``i``."""
    digits = []
    for _ in range(8):
        i, digit = divmod(i, 32)
        digits.append(ALPHABET[digit])
    return "PK-" + "".join(reversed(digits))


def iccid(j: int) -> str:
    partial = f"8992{j:014d}"
    return partial + luhn_check_digit(partial)


def status_of(i: int) -> str:
    slot = i * 7919 % 1000
    for share, status in STATUSES:
        if slot < share:
            return status
        slot -= share
    return Order.Status.FULFILLED


def kind_of(i: int) -> str:
    slot = i % 20
    if slot < 12:
        return Order.Kind.PURCHASE
    return Order.Kind.RENEWAL if slot < 17 else Order.Kind.RECHARGE


def copy_rows(model, names: list[str], rows) -> int:
    """COPY ``rows`` (tuples of ``names``) into the table; other columns but the id get defaults."""
    fields = [
        f for f in model._meta.concrete_fields if f.attname not in names and not f.primary_key
    ]
    now = timezone.now()
    defaults = []
    for field in fields:
        value = now if getattr(field, "auto_now_add", False) else field.get_default()
        defaults.append(json.dumps(value) if isinstance(value, dict | list) else value)
    columns = ", ".join(connection.ops.quote_name(c) for c in [*names, *(f.column for f in fields)])
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row((*row, *defaults))
            count += 1
    return count


class DataSet:
    """Everything the benchmark loads, and how to find rows in it."""

    def __init__(self, orders: int, sims: int):
        self.orders, self.sims = orders, sims
        self.end = timezone.now()
        self.start = self.end - SPAN
        self.plans = list(Plan.objects.values_list("pk", "cost"))
        self.operator = Operator.objects.order_by("pk").first().pk
        self.provider = Provider.objects.order_by("pk").first().pk
        self.order_type = ContentType.objects.get_for_model(Order).pk

    def placed_at(self, i: int):
        return self.start + SPAN * i / self.orders

    def issuing_order(self, j: int) -> int:
        """The order that issued SIM ``j``."""
        return j * self.orders // self.sims

    def buyer(self, i: int) -> tuple:
        """(customer id, partner id) of order ``i``."""
        if i % 5 == 3:
            return None, self.partner_base + i % PARTNERS
        return self.customer_base + i * 31 % CUSTOMERS, None

    def load(self) -> dict[str, int]:
        """Load every table; returns rows written per table."""
        self.customer_base = next_id(User)
        self.partner_base = next_id(Partner)
        self.order_base = next_id(Order)
        self.sim_base = next_id(Sim)
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no FK triggers
        try:
            written = {
                "customers": copy_rows(User, ["id", "email", "password"], self.users()),
                "partners": copy_rows(
                    Partner, ["id", "name", "slug", "contact_email", "currency"], self.partners()
                ),
                "orders": copy_rows(Order, ORDER_COLUMNS, self.order_rows()),
                "sims": copy_rows(Sim, SIM_COLUMNS, self.sim_rows()),
                "payments": copy_rows(Payment, PAYMENT_COLUMNS, self.payment_rows()),
                "wallet entries": copy_rows(WalletEntry, WALLET_COLUMNS, self.wallet_rows()),
                "audit entries": copy_rows(AuditEntry, AUDIT_COLUMNS, self.audit_rows()),
            }
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
        reset_sequences()
        return written

    def users(self):
        for n in range(CUSTOMERS):
            yield self.customer_base + n, f"c{n}@bench.example", "!"

    def partners(self):
        for n in range(PARTNERS):
            yield self.partner_base + n, f"Partner {n}", f"p{n}", f"p{n}@bench.example", "PKR"

    def order_rows(self):
        for i in range(self.orders):
            kind, status, at = kind_of(i), status_of(i), self.placed_at(i)
            sim = None
            if kind == Order.Kind.RENEWAL and i >= 20:
                sim = (i // 10 - 1) % self.sims
                customer, partner = self.buyer(self.issuing_order(sim))
                sim += self.sim_base
            else:
                customer, partner = self.buyer(i)
            plan, cost = self.plans[i % len(self.plans)]
            total = (cost * Decimal("1.25")).quantize(Decimal("1"))
            msisdn = f"+92300{i % 10_000_000:07d}" if kind == Order.Kind.RECHARGE else ""
            paid = at + timedelta(minutes=1) if status not in UNPAID else None
            done = paid + timedelta(minutes=1) if status == Order.Status.FULFILLED else None
            yield (
                *(self.order_base + i, order_number(i), kind, status, customer, partner, plan),
                *(sim, msisdn, "PKR", total, total, at, at, paid, done),
            )

    def sim_rows(self):
        for j in range(self.sims):
            i = self.issuing_order(j)
            customer, partner = self.buyer(i)
            at = self.placed_at(i)
            expires = at + timedelta(days=30)
            status = Sim.Status.ACTIVE if expires > self.end else Sim.Status.EXPIRED
            yield (
                *(self.sim_base + j, iccid(j), f"+92310{j:07d}", self.operator, self.provider),
                *(customer, partner, self.order_base + i, status, f"LPA:1$smdp.example${j}"),
                *(10240, 5120, expires, at, at),
            )

    def payment_rows(self):
        for i in range(self.orders):
            customer, _ = self.buyer(i)
            gateway = ("stripe", "manual")[i % 7 == 0] if customer else "wallet"
            status = "pending" if status_of(i) in UNPAID else "succeeded"
            at = self.placed_at(i)
            yield (
                *(self.order_base + i, gateway, status, Decimal("599"), "PKR"),
                *(f"{gateway}-{i}", f"pay-{i}", at, at),
            )

    def wallet_rows(self):
        for i in range(3, self.orders, 5):
            _, partner = self.buyer(i)
            at = self.placed_at(i)
            yield partner, "order_debit", Decimal("-599"), "PKR", self.order_base + i, at

    def audit_rows(self):
        for i in range(self.orders):
            after = json.dumps({"status": status_of(i)})
            yield (
                *(self.placed_at(i), "worker", ACTIONS[i % len(ACTIONS)], self.order_type),
                *(str(self.order_base + i), order_number(i), after),
            )


UNPAID = {Order.Status.AWAITING_PAYMENT, Order.Status.PAYMENT_FAILED, Order.Status.CANCELLED}
ORDER_COLUMNS = [
    *("id", "number", "kind", "status", "customer_id", "partner_id", "plan_id", "sim_id"),
    *("recharge_msisdn", "currency", "subtotal", "total", "created_at", "updated_at"),
    *("paid_at", "fulfilled_at"),
]
SIM_COLUMNS = [
    *("id", "iccid", "msisdn", "operator_id", "provider_id", "owner_id", "partner_id"),
    *("issued_by_order_id", "status", "activation_code", "data_total_mb", "data_remaining_mb"),
    *("expires_at", "created_at", "updated_at"),
]
PAYMENT_COLUMNS = [
    *("order_id", "gateway", "status", "amount", "currency", "external_reference"),
    *("idempotency_key", "created_at", "updated_at"),
]
WALLET_COLUMNS = ["partner_id", "kind", "amount", "currency", "order_id", "created_at"]
AUDIT_COLUMNS = [
    *("created_at", "actor_label", "action", "target_type_id", "target_id", "target_repr"),
    "after",
]


def next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequences() -> None:
    """Point each id sequence past the ids written here."""
    models = [User, Partner, Order, Sim, Payment, WalletEntry, AuditEntry]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
