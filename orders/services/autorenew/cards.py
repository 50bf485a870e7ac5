"""Auto-renew: saving a card (setup through the gateway's webhook) and switching it on and off.

Charging lives in ``orders.services.autorenew.charges``.
"""

import json
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit, signing
from orders.models import AutoRenewal, SavedPaymentMethod, Sim, WebhookEvent
from orders.payments import saved_cards
from orders.payments.base import GatewayError
from orders.services.errors import OrderError
from orders.services.placing import RENEWABLE_SIM_STATES
from plans.models import PlanKind, PlanPrice

SETUP_GATEWAYS = {"stripe", "test"}
# What the test setup page's buttons save: (payment method id prefix, brand, last4).
TEST_CARDS = {
    "save": ("pm_test_", "visa", "4242"),
    "save_declining": (f"pm_test_{saved_cards.DECLINE_MARKER}_", "visa", "0002"),
}


class SetupNotFoundYet(Exception):
    """A setup event for a card setup not committed yet; try again shortly."""


def usable_methods(customer):
    return SavedPaymentMethod.objects.filter(customer=customer, revoked_at__isnull=True).exclude(
        payment_method_reference=""
    )


def start_card_setup(*, customer, gateway: str, return_url: str, cancel_url: str = ""):
    """Begin saving a card; returns (the pending SavedPaymentMethod, where to send the customer)."""
    if gateway not in SETUP_GATEWAYS:
        raise OrderError("method_unavailable", _("Cards cannot be saved with this gateway."))
    earlier = (
        SavedPaymentMethod.objects.filter(customer=customer, gateway=gateway)
        .exclude(customer_reference="")
        .values_list("customer_reference", flat=True)
        .first()
    )
    method = SavedPaymentMethod.objects.create(
        customer=customer, gateway=gateway, customer_reference=earlier or ""
    )
    try:
        started = saved_cards.start_setup(
            method, return_url=return_url, cancel_url=cancel_url or return_url
        )
    except GatewayError as exc:
        method.delete()
        raise OrderError(
            "gateway_unavailable", _("The card could not be saved. Try again.")
        ) from exc
    method.setup_reference = started.setup_reference
    method.customer_reference = started.customer_reference
    method.save(update_fields=["setup_reference", "customer_reference"])
    return method, started.redirect_url


def complete_setup_event(event: WebhookEvent) -> SavedPaymentMethod | None:
    """Record the card a setup event reports (re-read from Stripe); a duplicate changes nothing."""
    reference = saved_cards.setup_reference_of(event.payload)
    method = SavedPaymentMethod.objects.filter(
        gateway=event.source, setup_reference=reference
    ).first()
    if method is None:
        raise SetupNotFoundYet(reference)
    if method.payment_method_reference:
        return method
    card = saved_cards.read_setup(event.source, event.payload)
    if card is None or not card.payment_method_reference:
        return None
    with transaction.atomic():
        locked = SavedPaymentMethod.objects.select_for_update().get(pk=method.pk)
        if locked.payment_method_reference:
            return locked
        locked.payment_method_reference = card.payment_method_reference
        locked.customer_reference = card.customer_reference or locked.customer_reference
        locked.label = card.label
        locked.saved_at = timezone.now()
        locked.save()
        audit.record(
            action="card.saved",
            target=locked,
            actor_label=event.source,
            after={"label": card.label},
        )
    return locked


def sandbox_setup_event(method: SavedPaymentMethod, action: str) -> tuple[bytes, dict]:
    """The signed Stripe-shaped event the test setup page sends for ``action``."""
    from orders.payments.test import SIGNATURE_HEADER, signing_secret

    prefix, brand, last4 = TEST_CARDS[action]
    token = method.setup_token
    session = {
        "id": method.setup_reference,
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "customer": method.customer_reference,
        "setup_intent": {
            "id": f"seti_test_{token}",
            "object": "setup_intent",
            "status": "succeeded",
            "payment_method": {"id": prefix + token, "card": {"brand": brand, "last4": last4}},
        },
    }
    event = {
        "id": f"evt_test_{uuid.uuid4().hex}",
        "type": "checkout.session.completed",
        "data": {"object": session},
    }
    body = json.dumps(event).encode()
    return body, {SIGNATURE_HEADER: signing.sign(body, signing_secret())}


def _check_plan(sim: Sim, plan, currency: str) -> None:
    fits = (
        plan.kind == PlanKind.RENEWAL
        and plan.is_active
        and plan.is_supplied
        and plan.operator_id == sim.operator_id
        and PlanPrice.objects.filter(plan=plan, currency=currency).exists()
    )
    if not fits:
        raise OrderError("plan_does_not_fit", _("This plan cannot renew this SIM."))


def enable_auto_renew(*, sim: Sim, plan, payment_method: SavedPaymentMethod, currency: str):
    """Switch auto-renew on (or change its plan or card) for a SIM the card's owner holds."""
    if sim.owner_id is None or sim.form != Sim.Form.ESIM or sim.status not in RENEWABLE_SIM_STATES:
        raise OrderError("sim_not_renewable", _("This SIM can no longer be renewed."))
    if payment_method.customer_id != sim.owner_id or not payment_method.usable:
        raise OrderError("card_unavailable", _("Choose one of your saved cards."))
    _check_plan(sim, plan, currency)
    renewal, _created = AutoRenewal.objects.update_or_create(
        sim=sim,
        defaults={
            "enabled": True,
            "plan": plan,
            "currency": currency,
            "payment_method": payment_method,
        },
    )
    audit.record(
        action="auto_renew.enabled",
        target=sim,
        actor=sim.owner,
        after={"plan": plan.pk, "currency": currency, "card": payment_method.label},
    )
    return renewal


def disable_auto_renew(*, sim: Sim) -> bool:
    """Switch auto-renew off; returns False when it was not on."""
    changed = AutoRenewal.objects.filter(sim=sim, enabled=True).update(
        enabled=False, updated_at=timezone.now()
    )
    if changed:
        audit.record(action="auto_renew.disabled", target=sim, actor=sim.owner)
    return bool(changed)
