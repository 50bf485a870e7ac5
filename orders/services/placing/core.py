"""What every kind of order goes through once its own checks are done.

The buyer, the price (the retail list or the partner's price rule), the promotion, the partner's
``max_price``, the order row with its cost snapshot, the partner's wallet debit and the partner's
idempotency key. Each kind (``purchase``, ``renewal``, ``recharge``, ``replacement``) has its own
module that states what it takes and checks, then calls ``place``.
"""

import contextlib
from collections.abc import Callable
from decimal import Decimal
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Partner
from core import audit
from core.db import retry_on_deadlock
from core.money import Currency
from core.validators import normalize_pakistani_mobile
from orders.models import Gateway, Order, Payment, Sim
from orders.services import wallet
from orders.services.errors import OrderError
from orders.services.lifecycle import paid_fields, record_created_paid
from orders.services.pricing import partner_price, promotion_discount, retail_price
from plans.models import Plan, PlanKind

PLAN_KIND_FOR_ORDER = {
    Order.Kind.PURCHASE: PlanKind.ESIM,
    Order.Kind.RENEWAL: PlanKind.RENEWAL,
    Order.Kind.RECHARGE: PlanKind.RECHARGE,
    Order.Kind.REPLACEMENT: PlanKind.REPLACEMENT,
}
RENEWABLE_SIM_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}
MAX_QUANTITY = 50


class Terms(TypedDict, total=False):
    """What every kind of order takes besides what it is for.

    Exactly one buyer: a ``customer`` (who pays in ``currency`` afterwards) or a ``partner`` (paid
    from its wallet, in its own currency, in the same transaction). The partner's request:
    ``idempotency_key`` with its ``request_fingerprint``, ``customer_reference``, ``webhook_url``
    and ``max_price``. ``actor`` is who the audit trail names (the customer when left out).
    """

    customer: object
    partner: Partner | None
    currency: str
    promotion_code: str
    idempotency_key: str
    request_fingerprint: str
    customer_reference: str
    webhook_url: str
    max_price: Decimal | None
    actor: object
    catalog_version: str | None


# The kind's own checks, given the buyer (customer, partner): the order's fields they decide.
KindCheck = Callable[[object, Partner | None], dict]


@retry_on_deadlock
def place(
    *,
    kind: str,
    plan: Plan,
    check: KindCheck | None = None,
    quantity: int = 1,
    max_quantity: int = 1,
    sim: Sim | None = None,
    msisdn: str = "",
    customer=None,
    partner: Partner | None = None,
    currency: str = "",
    promotion_code: str = "",
    idempotency_key: str = "",
    request_fingerprint: str = "",
    customer_reference: str = "",
    webhook_url: str = "",
    max_price: Decimal | None = None,
    actor=None,
    catalog_version: str | None = None,
) -> Order:
    """Create an order of ``kind``; a partner's order is paid from its wallet in the same
    transaction.

    ``check``, the kind's own, runs after the plan and the quantity are checked and gives the
    order's fields it decides. ``sim`` and ``msisdn`` are what the caller asked for, compared when
    an idempotency key comes again.
    With ``max_price``, a total above it is refused (``price_changed``) and nothing is written.
    A ``partner`` is priced with its ``currency`` and ``tier`` as given (a copy from a cache will
    do), then compared with its locked row: priced again from the row when they differ.
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
    try:
        check_plan(plan, kind)
        check_quantity(quantity, max_quantity)
        fields = check(customer, partner) if check else {}
        currency = partner.currency if partner else currency
        subtotal = _subtotal(plan, quantity, partner, currency, max_price, catalog_version)
        with transaction.atomic(), audit.batched():
            if partner:  # the lock order: the partner's wallet first (core/db.py)
                locked = wallet.lock_partner(partner)
                if (locked.currency, locked.tier) != (partner.currency, partner.tier):
                    currency = locked.currency  # priced from a stale copy: again, as it reads
                    subtotal = _subtotal(
                        plan, quantity, locked, currency, max_price, catalog_version
                    )
                partner = locked
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
                # A partner's order is paid from its wallet below, or not placed at all.
                **(dict(status=Order.Status.PAID, **paid_fields()) if partner else {}),
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
                _pay_from_wallet(order, partner)
    except (OrderError, IntegrityError):
        # The key placed an order already (its unique constraint): that order, when the request
        # is the same, whatever the plan, its price or the wallet are now.
        existing = _placed_with_key(partner, idempotency_key)
        if existing is None:
            raise
        return _placed_by_same_request(existing, **same_request)
    return order


def _placed_with_key(partner: Partner | None, idempotency_key: str) -> Order | None:
    if partner is None or not idempotency_key:
        return None
    return Order.objects.filter(partner=partner, idempotency_key=idempotency_key).first()


def _subtotal(
    plan: Plan,
    quantity: int,
    partner: Partner | None,
    currency: str,
    max_price: Decimal | None,
    catalog_version: str | None,
) -> Decimal:
    """The order's price before any promotion, the partner's or the retail one in ``currency``;
    ``price_changed`` when above ``max_price``."""
    if currency not in Currency.values:
        raise OrderError("currency_invalid", _("Choose a currency."))
    if partner:
        unit = partner_price(plan, partner, catalog_version)
    else:
        unit = retail_price(plan, currency, catalog_version)
    subtotal = unit * quantity
    if max_price is not None and subtotal > max_price:
        raise OrderError(
            "price_changed",
            _("The price is now %(total)s %(currency)s, above your maximum.")
            % {"total": subtotal, "currency": currency},
        )
    return subtotal


def check_plan(plan: Plan, kind: str) -> None:
    if not plan.is_active or plan.kind != PLAN_KIND_FOR_ORDER[kind]:
        raise OrderError("plan_unavailable", _("This plan cannot be bought for this order."))
    if not plan.is_supplied:  # refused before any money moves (plans.models.CAPABILITY_FOR_KIND)
        raise OrderError(
            "plan_not_supplied", _("This plan's provider cannot supply it: choose another plan.")
        )


def check_quantity(quantity: int, max_quantity: int) -> None:
    if not 1 <= quantity <= max_quantity:
        raise OrderError(
            "quantity_invalid", _("Choose a quantity between 1 and %d.") % max_quantity
        )


def own_live_sim(sim: Sim | None, plan: Plan, forms=(Sim.Form.ESIM,)) -> KindCheck:
    """The check of the kinds that are for a SIM the buyer has (renewals, replacements): the
    buyer's own SIM of one of ``forms`` (an eSIM by default), still live, of the plan's
    operator."""

    def check(customer, partner) -> dict:
        owned = sim is not None and (
            sim.owner_id == customer.pk if customer else sim.partner_id == partner.pk
        )
        if not owned:
            raise OrderError("sim_not_found", _("SIM not found."))
        if sim.status not in RENEWABLE_SIM_STATES or sim.form not in forms:
            raise OrderError("sim_not_renewable", _("This SIM can no longer be renewed."))
        if plan.operator_id != sim.operator_id:
            raise OrderError("plan_does_not_fit", _("This plan does not fit this SIM."))
        return {"sim": sim}

    return check


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


def _pay_from_wallet(order: Order, partner: Partner) -> None:
    """Pay the order, created paid in this transaction, from the wallet of ``partner``
    (locked)."""
    record_created_paid(order=order)
    if order.total == 0:  # e.g. a free replacement: nothing to debit
        return
    entry = wallet.debit_for_order(order=order, partner=partner)
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
