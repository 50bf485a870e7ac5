"""The customer's data export: the account from accounts, with the orders and SIMs."""

from accounts.models import User
from accounts.services import export_account_data
from orders.models import Order, Sim


def export_customer_data(user: User) -> dict:
    """Everything we hold about a customer, for the customer to download."""
    orders = (
        Order.objects.filter(customer=user)
        .select_related("plan")
        .prefetch_related("payments")
        .order_by("created_at")
    )
    sims = Sim.objects.filter(owner=user).select_related("operator").order_by("created_at")
    return {
        **export_account_data(user),
        "orders": [
            {
                "number": o.number,
                "kind": o.kind,
                "status": o.status,
                "plan": o.plan.name,
                "currency": o.currency,
                "total": o.total,
                "created_at": o.created_at,
                "recharge_number": o.recharge_msisdn,
                "payments": [
                    {
                        "gateway": p.gateway,
                        "method": p.method,
                        "status": p.status,
                        "amount": p.amount,
                    }
                    for p in o.payments.all()
                ],
            }
            for o in orders
        ],
        "sims": [
            {
                "iccid": s.iccid,
                "number": s.msisdn,
                "operator": s.operator.name,
                "status": s.status,
                "expires_at": s.expires_at,
            }
            for s in sims
        ],
    }
