"""Removing a saved card: revoked here first, then detached at the gateway.

The local revoke is what protects the customer: every charge path checks ``revoked_at``, so a
removed card is never charged again, whatever the gateway says. The detach runs once the revoke
is committed (no row lock is held across the gateway call); a detach that fails is logged for
staff to finish by hand and does not bring the card back.
"""

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from core import audit
from orders.models import SavedPaymentMethod, Sim
from orders.payments import saved_cards
from orders.payments.base import GatewayError
from orders.services.autorenew.cards import disable_auto_renew

logger = logging.getLogger(__name__)


def remove_saved_card(*, customer, method: SavedPaymentMethod) -> int:
    """Revoke ``customer``'s card and switch auto-renew off wherever it is used; returns how many.

    A card already removed changes nothing (returns 0); another customer's card raises
    ``SavedPaymentMethod.DoesNotExist``.
    """
    with transaction.atomic():
        locked = SavedPaymentMethod.objects.select_for_update().get(pk=method.pk, customer=customer)
        if locked.revoked_at is not None:
            return 0
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        using = Sim.objects.filter(
            auto_renewal__payment_method=locked, auto_renewal__enabled=True
        ).select_related("owner")
        turned_off = sum(disable_auto_renew(sim=sim) for sim in using.order_by("pk"))
        audit.record(
            action="card.removed",
            target=locked,
            actor=customer,
            after={"label": locked.label, "auto_renew_turned_off": turned_off},
        )
        transaction.on_commit(partial(_detach, locked), robust=True)
    method.revoked_at = locked.revoked_at
    return turned_off


def _detach(method: SavedPaymentMethod) -> None:
    try:
        saved_cards.detach(method)
    except GatewayError as exc:
        logger.error(
            "Saved card %s was removed but not detached at %s (%s): %s",
            method.pk,
            method.gateway,
            method.payment_method_reference,
            exc,
        )
