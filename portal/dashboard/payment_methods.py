"""The dashboard's payments by method: how customers pay, and how much of it waits or fails."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum

from orders.models import Payment
from orders.site.forms.checkout import method_label

Status = Payment.Status


@dataclass
class MethodFigures:
    label: str
    gateway: str
    method: str
    currency: str
    succeeded: int
    amount: Decimal
    pending: int
    failed: int


def payments_by_method(since: datetime) -> list[MethodFigures]:
    """Payments started since ``since`` per gateway, method and currency: one query."""
    rows = (
        Payment.objects.filter(created_at__gte=since)
        .values("gateway", "method", "currency")
        .annotate(
            succeeded=Count("pk", filter=Q(status__in=[Status.SUCCEEDED, Status.REFUNDED])),
            amount=Sum("amount", filter=Q(status__in=[Status.SUCCEEDED, Status.REFUNDED])),
            pending=Count("pk", filter=Q(status=Status.PENDING)),
            failed=Count("pk", filter=Q(status__in=[Status.FAILED, Status.CANCELLED])),
        )
        .order_by("-succeeded", "gateway", "method", "currency")
    )
    return [
        MethodFigures(
            label=f"{method_label(row['gateway'], row['method'])} · {row['gateway']}",
            gateway=row["gateway"],
            method=row["method"],
            currency=row["currency"],
            succeeded=row["succeeded"],
            amount=row["amount"] or Decimal(0),
            pending=row["pending"],
            failed=row["failed"],
        )
        for row in rows
    ]
