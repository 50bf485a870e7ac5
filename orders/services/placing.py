"""Placing orders of every kind, priced from the retail list or the partner's price rule."""

import contextlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Partner
from orders.models import Gateway, Order, Payment, Sim
from orders.services import wallet
from orders.services.errors import OrderError
from orders.services.lifecycle import mark_order_paid
from orders.services.pricing import partner_price, promotion_discount, retail_price
from plans.models import Operator, OperatorPrefix, Plan, PlanKind
from portal import audit
from portal.db import retry_on_deadlock
from portal.money import Currency
from portal.validators import normalize_pakistani_mobile

PLAN_KIND_FOR_ORDER = {
    Order.Kind.PURCHASE: PlanKind.ESIM,
    Order.Kind.RENEWAL: PlanKind.RENEWAL,
    Order.Kind.RECHARGE: PlanKind.RECHARGE,
    Order.Kind.REPLACEMENT: PlanKind.REPLACEMENT,
}
RENEWABLE_SIM_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}
MAX_QUANTITY = 50


def detect_operator(msisdn: str) -> Operator | None:
    """The operator whose prefix the E.164 Pakistani number starts with (a guess: numbers port)."""
    national = msisdn.removeprefix("+92")
    prefix = OperatorPrefix.objects.select_related("operator").filter(prefix=national[:3]).first()
    return prefix.operator if prefix else None


@retry_on_deadlock
def place_order(
    *,
    kind: str,
    plan: Plan,
    customer=None,
    partner: Partner | None = None,
    currency: str = "",
    quantity: int = 1,
    sim: Sim | None = None,
    msisdn: str = "",
    operator: Operator | None = None,
    promotion_code: str = "",
    idempotency_key: str = "",
    request_fingerprint: str = "",
    customer_reference: str = "",
    webhook_url: str = "",
    max_price: Decimal | None = None,
    actor=None,
) -> Order:
    """Create an order. A partner's order is paid from its wallet in the same transaction.

    With ``max_price``, a total above it is refused (``price_changed``) and nothing is written.
    A partner's ``idempotency_key`` places one order: the same key again returns it when the
    request is the same (``request_fingerprint``) and is refused (``idempotency_mismatch``)
    when it is not, for as long as the order exists.
    """
    if (customer is None) == (partner is None):
        raise OrderError("buyer_required", "An order has exactly one buyer.")
    same_request = {
        "request_fingerprint": request_fingerprint,
        "kind": kind,
        "plan": plan,
        "quantity": quantity,
        "sim": sim,
        "msisdn": msisdn,
        "customer_reference": customer_reference,
        "webhook_url": webhook_url,
    }
    if partner is not None and idempotency_key:
        existing = Order.objects.filter(partner=partner, idempotency_key=idempotency_key).first()
        if existing:
            return _placed_by_same_request(existing, **same_request)
    fields = _validated_fields(
        kind=kind,
        plan=plan,
        customer=customer,
        partner=partner,
        quantity=quantity,
        sim=sim,
        msisdn=msisdn,
        operator=operator,
    )
    currency = partner.currency if partner else currency
    if currency not in Currency.values:
        raise OrderError("currency_invalid", _("Choose a currency."))
    unit = partner_price(plan, partner) if partner else retail_price(plan, currency)
    subtotal = unit * quantity
    if max_price is not None and subtotal > max_price:
        raise OrderError(
            "price_changed",
            _("The price is now %(total)s %(currency)s, above your maximum.")
            % {"total": subtotal, "currency": currency},
        )
    try:
        with transaction.atomic():
            if partner:  # the lock order: the partner's wallet first (portal/db.py)
                wallet.lock_partner(partner)
            promotion, discount = (None, 0)
            if promotion_code:
                promotion, discount = promotion_discount(promotion_code, subtotal, currency)
            order = Order.objects.create(
                kind=kind,
                plan=plan,
                customer=customer,
                partner=partner,
                quantity=quantity,
                currency=currency,
                subtotal=subtotal,
                discount=discount,
                total=subtotal - discount,
                # What the upstream charges us now: the margin of this order, whatever the plan's
                # cost becomes later (a catalog sync, a provider's new price list).
                cost=plan.cost * quantity,
                cost_currency=plan.cost_currency,
                promotion=promotion,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint if idempotency_key else "",
                customer_reference=customer_reference,
                webhook_url=webhook_url,
                **fields,
            )
            audit.record(
                action="order.placed",
                target=order,
                actor=actor or customer,
                actor_label=f"partner:{partner.slug}" if partner else "",
                after={"total": str(order.total), "currency": currency},
            )
            if partner:
                _pay_from_wallet(order)
    except IntegrityError:
        existing = Order.objects.filter(partner=partner, idempotency_key=idempotency_key).first()
        if partner is None or not idempotency_key or existing is None:
            raise
        return _placed_by_same_request(existing, **same_request)
    return order


def _placed_by_same_request(
    existing: Order,
    *,
    request_fingerprint,
    kind,
    plan,
    quantity,
    sim,
    msisdn,
    customer_reference,
    webhook_url,
) -> Order:
    """The order this key placed, if it was placed for the same request; else 409 (rule 12).

    Both fingerprints known: they decide. Otherwise (an order placed before fingerprints were
    kept, or a caller without one) what the order buys and for whom decides.
    """
    if existing.request_fingerprint and request_fingerprint:
        same = existing.request_fingerprint == request_fingerprint
    else:
        number = msisdn
        with contextlib.suppress(ValidationError):
            number = normalize_pakistani_mobile(msisdn) if msisdn else ""
        same = (
            existing.kind,
            existing.plan_id,
            existing.quantity,
            existing.sim_id,
            existing.recharge_msisdn,
            existing.customer_reference,
            existing.webhook_url,
        ) == (
            kind,
            plan.pk,
            quantity,
            sim.pk if sim else None,
            number,
            customer_reference,
            webhook_url,
        )
    if not same:
        raise OrderError(
            "idempotency_mismatch", _("This Idempotency-Key was used with a different request.")
        )
    return existing


def _validated_fields(*, kind, plan, customer, partner, quantity, sim, msisdn, operator) -> dict:
    if kind not in Order.Kind.values:
        raise OrderError("kind_invalid", "Unknown order kind.")
    if not plan.is_active or plan.kind != PLAN_KIND_FOR_ORDER[kind]:
        raise OrderError("plan_unavailable", _("This plan cannot be bought for this order."))
    max_quantity = MAX_QUANTITY if kind == Order.Kind.PURCHASE and partner else 1
    if not 1 <= quantity <= max_quantity:
        raise OrderError(
            "quantity_invalid", _("Choose a quantity between 1 and %d.") % max_quantity
        )
    fields = {}
    if kind in (Order.Kind.RENEWAL, Order.Kind.REPLACEMENT):
        owned = sim is not None and (
            sim.owner_id == customer.pk if customer else sim.partner_id == partner.pk
        )
        if not owned:
            raise OrderError("sim_not_found", _("SIM not found."))
        if sim.status not in RENEWABLE_SIM_STATES or sim.form != Sim.Form.ESIM:
            raise OrderError("sim_not_renewable", _("This SIM can no longer be renewed."))
        if plan.operator_id != sim.operator_id:
            raise OrderError("plan_does_not_fit", _("This plan does not fit this SIM."))
        fields["sim"] = sim
    if kind == Order.Kind.RECHARGE:
        try:
            number = normalize_pakistani_mobile(msisdn)
        except Exception as exc:
            raise OrderError("msisdn_invalid", " ".join(exc.messages)) from exc
        operator = operator or detect_operator(number)
        if operator is None or plan.operator_id != operator.pk:
            raise OrderError("plan_does_not_fit", _("This plan is for another operator."))
        fields.update(recharge_msisdn=number, recharge_operator=operator)
    return fields


def _pay_from_wallet(order: Order) -> None:
    if order.total == 0:  # e.g. a free replacement: nothing to debit
        mark_order_paid(order=order, paid_at=timezone.now())
        return
    entry = wallet.debit_for_order(order=order)
    Payment.objects.create(
        order=order,
        gateway=Gateway.WALLET,
        method="wallet",
        amount=order.total,
        currency=order.currency,
        status=Payment.Status.SUCCEEDED,
        external_reference=f"wallet-{entry.pk}",
        idempotency_key=f"wallet-{order.number}",
    )
    mark_order_paid(order=order, paid_at=timezone.now())
