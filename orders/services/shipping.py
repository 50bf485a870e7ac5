"""A physical SIM's replacement by post: issued → shipped → activated.

Staff record the courier and the tracking number when the new card leaves (the customer is
told, with the courier's tracking link); the customer confirms on the site that the new card
works, or staff mark it. The old SIM keeps working until then and is retired at activation.
Each step is a state-machine move with an audit entry; doing a step again changes nothing and
returns False; a step out of order is refused with a clear message. A mistyped courier or
tracking number is corrected while the card is on its way (audited; the customer and a partner
are told the corrected tracking).
"""

import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.state import transition
from orders.couriers import COURIERS
from orders.models import ReplacementTicket, Sim
from orders.partner_webhooks import services as partner_webhooks
from orders.services import posting_notices
from orders.services.effects import retire_replaced_sim
from orders.services.errors import OrderError

SHIP_PERMISSION = "orders.change_replacementticket"
TRACKING_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
LIVE_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}
Status = ReplacementTicket.Status


def normalize_tracking_number(number: str) -> str:
    """4 to 40 letters, digits and dashes (spaces as typed are dropped), upper case."""
    compact = re.sub(r"\s", "", number or "").upper()
    if not TRACKING_PATTERN.match(compact):
        raise OrderError(
            "tracking_number_invalid",
            _("A tracking number has 4 to 40 letters, digits and dashes."),
        )
    return compact


def ship_replacement(*, ticket: ReplacementTicket, courier: str, tracking_number: str, actor):
    """Record that the new SIM card left with ``courier``; False when it had already been sent
    (nothing is changed then)."""
    number = _checked_tracking(actor, courier, tracking_number)
    with transaction.atomic():
        locked = _lock(ticket)
        if locked.status in {Status.SHIPPED, Status.ACTIVATED}:
            moved = False
        else:
            _require(locked, Status.ISSUED)
            moved = transition(
                locked,
                Status.SHIPPED,
                actor=actor,
                note=f"{courier} {number}",
                changes={
                    "courier": courier,
                    "tracking_number": number,
                    "shipped_at": timezone.now(),
                },
                held=True,
            )
            _notify(locked, "shipped")
            partner_webhooks.emit_replacement_event(locked)  # partner SIMs only
    ticket.refresh_from_db()
    return moved


def correct_tracking(*, ticket: ReplacementTicket, courier: str, tracking_number: str, actor):
    """Correct the courier or tracking number of a SIM card on its way (a mistyped receipt): the
    customer is told the corrected tracking, as is the partner of a partner's SIM. False when
    they are already these (nothing is changed then)."""
    number = _checked_tracking(actor, courier, tracking_number)
    with transaction.atomic():
        locked = _lock(ticket)
        _require(locked, Status.SHIPPED)
        before = {"courier": locked.courier, "tracking_number": locked.tracking_number}
        after = {"courier": courier, "tracking_number": number}
        corrected = before != after
        if corrected:
            locked.courier, locked.tracking_number = courier, number
            locked.save(update_fields=[*after, "updated_at"])
            audit.record(
                action=posting_notices.CORRECTED,
                target=locked,
                actor=actor,
                before=before,
                after=after,
            )
            _notify(locked, "tracking_corrected")
            partner_webhooks.emit_replacement_event(locked)  # partner SIMs only
    ticket.refresh_from_db()
    return corrected


def confirm_activation(*, ticket: ReplacementTicket, customer=None, staff=None) -> bool:
    """The new SIM card works: the customer (its owner) confirms, or ``staff`` mark it. The new
    SIM becomes active and the old one is retired. False when it was already confirmed."""
    actor = customer or staff
    if actor is None:
        raise ValueError("Say who confirms: customer or staff.")
    with transaction.atomic():
        locked = _lock(ticket)
        if customer is not None and locked.sim.owner_id != customer.pk:
            raise PermissionDenied(_("Only the SIM's owner can confirm its replacement."))
        if staff is not None and not staff.has_perm(SHIP_PERMISSION):
            raise PermissionDenied(_("You may not mark replacement SIMs activated."))
        if locked.status == Status.ACTIVATED:
            return False
        _require(locked, Status.SHIPPED)
        note = "confirmed by the customer" if customer is not None else "marked by staff"
        transition(
            locked,
            Status.ACTIVATED,
            actor=actor,
            note=note,
            changes={"activated_at": timezone.now()},
            held=True,
        )
        old = Sim.objects.select_for_update().get(pk=locked.sim_id)
        new = Sim.objects.select_for_update().get(pk=locked.new_sim_id)
        if new.status == Sim.Status.ISSUED:
            transition(new, Sim.Status.ACTIVE, actor=actor, note=note, held=True)
        if old.status in LIVE_STATES:
            retire_replaced_sim(old, new, note=f"replaced by {new.iccid} ({note})", actor=actor)
        _notify(locked, "activated")
        partner_webhooks.emit_replacement_event(locked)  # partner SIMs only
    ticket.refresh_from_db()
    return True


def _checked_tracking(actor, courier: str, tracking_number: str) -> str:
    """The tracking number as stored, once ``actor`` may ship and ``courier`` is known."""
    if not actor.has_perm(SHIP_PERMISSION):
        raise PermissionDenied(_("You may not ship replacement SIMs."))
    if courier not in COURIERS:
        raise OrderError("courier_invalid", _("Choose a courier from the list."))
    return normalize_tracking_number(tracking_number)


def _lock(ticket: ReplacementTicket) -> ReplacementTicket:
    locked = (
        ReplacementTicket.objects.select_for_update(of=("self",))
        .select_related("sim")
        .get(pk=ticket.pk)
    )
    if locked.sim.form != Sim.Form.PHYSICAL:
        raise OrderError(
            "not_by_post", _("Only a physical SIM is sent by post; a new eSIM is installed.")
        )
    return locked


def _require(ticket: ReplacementTicket, needed: str) -> None:
    """Refuse a step the request is not ready for, saying why."""
    if ticket.status == needed:
        return
    reasons = {
        Status.SUBMITTED: _("The request has not been approved yet."),
        Status.APPROVED: _(
            "The new SIM is not issued yet: its fee is unpaid or it is still being prepared."
        ),
        Status.ISSUED: _("The new SIM has not been shipped yet."),
        Status.REJECTED: _("The request was rejected."),
        Status.CANCELLED: _("The request was cancelled."),
        Status.ACTIVATED: _("The new SIM card is already activated."),
    }
    raise OrderError("wrong_state", reasons.get(ticket.status, _("This step is not possible now.")))


def _notify(ticket: ReplacementTicket, event: str) -> None:
    from orders import tasks

    tasks.send_replacement_email.delay_on_commit(ticket.pk, event)
