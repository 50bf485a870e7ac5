"""Replacement (补卡): request with identity documents, review by a person, new eSIM for the line.

The operator's fee, if any, is paid after approval, not before review: a customer whose request
is rejected never pays, so rejections need no refunds, and nobody pays to have their identity
looked at. A free replacement is provisioned as soon as it is approved.
"""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.documents import DocumentRejected, sanitize_image, store_document
from accounts.models import (
    CustomerProfile,
    DocumentType,
    IdentityCheck,
    IdentityDocument,
    RejectionReason,
)
from core import audit
from core.state import transition
from orders.models import Order, ReplacementTicket, Sim
from orders.partner_webhooks import services as partner_webhooks
from orders.services.errors import OrderError
from orders.services.lifecycle import mark_order_paid
from orders.services.placing import place_replacement
from plans.models import Plan, PlanKind

REVIEW_PERMISSION = "accounts.review_identitycheck"
REPLACEABLE_STATES = {Sim.Status.ISSUED, Sim.Status.ACTIVE, Sim.Status.EXPIRED}
OPEN_STATES = {ReplacementTicket.Status.SUBMITTED, ReplacementTicket.Status.APPROVED}
# A physical SIM's request stays in progress while its new card is on the way.
POSTED_STATES = {ReplacementTicket.Status.ISSUED, ReplacementTicket.Status.SHIPPED}
FLAG_AFTER_REJECTIONS = 3
CNIC_PATTERN = re.compile(r"^\d{13}$")
PASSPORT_PATTERN = re.compile(r"^[A-Z0-9]{6,12}$")


def open_ticket(sim: Sim) -> ReplacementTicket | None:
    """The SIM's replacement request still in progress, if any."""
    states = OPEN_STATES | POSTED_STATES if sim.form == Sim.Form.PHYSICAL else OPEN_STATES
    return sim.replacement_tickets.filter(status__in=states).first()


def ineligibility(sim: Sim, customer=None, partner=None) -> str:
    """Why ``customer`` (or ``partner``) cannot ask to replace ``sim`` ("" when they can)."""
    holder = (
        sim.owner_id == customer.pk if customer else sim.partner_id == getattr(partner, "pk", None)
    )
    if not holder:
        return _("SIM not found.")
    if sim.status not in REPLACEABLE_STATES:
        return _("This SIM has already been replaced or closed.")
    if open_ticket(sim) is not None:
        return _("A replacement request for this SIM is already being handled.")
    return ""


def normalize_document_number(document_type: str, number: str) -> str:
    """CNIC: 13 digits (dashes allowed as typed); passport: 6-12 letters and digits."""
    compact = re.sub(r"[\s-]", "", number).upper()
    pattern = CNIC_PATTERN if document_type == DocumentType.CNIC else PASSPORT_PATTERN
    if document_type not in DocumentType.values or not pattern.match(compact):
        message = (
            _("A CNIC number has 13 digits, e.g. 35202-1234567-1.")
            if document_type == DocumentType.CNIC
            else _("A passport number has 6 to 12 letters and digits.")
        )
        raise OrderError("document_number_invalid", message)
    return compact


def request_replacement(
    *,
    sim: Sim,
    customer=None,
    partner=None,
    reason: str,
    full_name: str,
    document_type: str,
    document_number: str,
    front,
    back,
    selfie,
    currency: str,
    delivery_address: str = "",
) -> ReplacementTicket:
    """Record a replacement request with its identity documents for staff to review.

    A customer asks for their own SIM; a partner asks for a SIM it sold, for its end customer.
    """
    problem = ineligibility(sim, customer, partner)
    if problem:
        raise OrderError("not_eligible", problem)
    if reason not in ReplacementTicket.Reason.values:
        raise OrderError("reason_invalid", _("Choose a reason."))
    if not full_name.strip():
        raise OrderError("name_required", _("Enter your full name as on the document."))
    number = normalize_document_number(document_type, document_number)
    if sim.form == Sim.Form.PHYSICAL and not delivery_address.strip():
        raise OrderError("address_required", _("Enter the address to send the new SIM to."))
    uploads = {
        IdentityDocument.Kind.FRONT: front,
        IdentityDocument.Kind.BACK: back,
        IdentityDocument.Kind.SELFIE: selfie,
    }
    sanitized = {}
    for kind, upload in uploads.items():
        try:
            sanitized[kind] = sanitize_image(upload)  # refuse bad files before anything is written
        except DocumentRejected as rejected:
            rejected.field = kind  # which upload was refused (the field names match the kinds)
            raise
    stored = []
    try:
        with transaction.atomic():
            Sim.objects.select_for_update().get(pk=sim.pk)
            if open_ticket(sim) is not None:
                raise OrderError("not_eligible", ineligibility(sim, customer, partner))
            check = IdentityCheck.objects.create(
                customer=customer,
                partner=partner,
                full_name=full_name.strip(),
                document_type=document_type,
                document_number=number,
            )
            for kind, image in sanitized.items():
                stored.append(store_document(check=check, kind=kind, upload=image))
            ticket = ReplacementTicket.objects.create(
                sim=sim,
                requested_by=customer,
                partner=partner,
                identity_check=check,
                reason=reason,
                currency=currency,
                delivery_address=delivery_address.strip(),
            )
            audit.record(
                action="replacement.requested",
                target=ticket,
                actor=customer,
                actor_label=f"partner:{partner.slug}" if partner else "",
                after={"reason": reason, "sim": sim.iccid},
            )
    except Exception:
        for document in stored:
            document.file.delete(save=False)
        raise
    _notify(ticket, "requested")
    return ticket


def _check_reviewer(ticket: ReplacementTicket, reviewer) -> None:
    if not reviewer.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied(_("Only identity reviewers may decide."))
    if reviewer.pk in {
        ticket.requested_by_id,
        ticket.sim.owner_id,
        ticket.identity_check.customer_id,
    }:
        raise PermissionDenied(_("Nobody reviews their own account or their own request."))


def approve_replacement(*, ticket: ReplacementTicket, reviewer) -> ReplacementTicket:
    """Approve the identity; with two-person approval the second reviewer completes it."""
    _check_reviewer(ticket, reviewer)
    with transaction.atomic():
        check = IdentityCheck.objects.select_for_update().get(pk=ticket.identity_check_id)
        if check.status == IdentityCheck.Status.APPROVED:
            ticket.refresh_from_db()
            return ticket
        if check.status != IdentityCheck.Status.PENDING:
            raise OrderError("already_decided", _("This request has already been decided."))
        now = timezone.now()
        if settings.IDENTITY_TWO_PERSON_APPROVAL and check.first_approved_by_id is None:
            check.first_approved_by, check.first_approved_at = reviewer, now
            check.save(update_fields=["first_approved_by", "first_approved_at", "updated_at"])
            audit.record(action="identity.first_approval", target=check, actor=reviewer)
            ticket.refresh_from_db()
            return ticket
        if check.first_approved_by_id == reviewer.pk:
            raise PermissionDenied(_("A second, different reviewer must approve."))
        transition(
            check,
            IdentityCheck.Status.APPROVED,
            actor=reviewer,
            changes={"reviewed_by": reviewer, "reviewed_at": now},
        )
        locked = ReplacementTicket.objects.select_for_update().get(pk=ticket.pk)
        transition(
            locked, ReplacementTicket.Status.APPROVED, actor=reviewer, changes={"approved_at": now}
        )
        partner_webhooks.emit_replacement_event(locked)  # replacement.approved, partner SIMs only
        order = place_replacement(
            plan=_fee_plan(locked.sim),
            customer=locked.sim.owner,
            partner=locked.sim.partner,  # a partner's SIM: the fee comes from its wallet
            currency=locked.currency,
            sim=locked.sim,
            actor=reviewer,
        )
        locked.order = order
        locked.save(update_fields=["order", "updated_at"])
        if order.total == 0 and order.status != Order.Status.PAID:
            mark_order_paid(order=order, actor=reviewer)
    ticket.refresh_from_db()
    _notify(ticket, "approved")
    return ticket


def reject_replacement(
    *, ticket: ReplacementTicket, reviewer, reason: str, note: str = ""
) -> ReplacementTicket:
    """Reject with a reason from the list; repeated rejections flag the account for staff."""
    _check_reviewer(ticket, reviewer)
    if reason not in RejectionReason.values:
        raise OrderError("reason_invalid", _("Choose a reason for the rejection."))
    with transaction.atomic():
        check = IdentityCheck.objects.select_for_update().get(pk=ticket.identity_check_id)
        if check.status != IdentityCheck.Status.PENDING:
            raise OrderError("already_decided", _("This request has already been decided."))
        transition(
            check,
            IdentityCheck.Status.REJECTED,
            actor=reviewer,
            note=note,
            changes={
                "reviewed_by": reviewer,
                "reviewed_at": timezone.now(),
                "rejection_reason": reason,
                "rejection_note": note.strip(),
            },
        )
        locked = ReplacementTicket.objects.select_for_update().get(pk=ticket.pk)
        transition(locked, ReplacementTicket.Status.REJECTED, actor=reviewer, note=reason)
        partner_webhooks.emit_replacement_event(locked)  # replacement.rejected, partner SIMs only
        rejections = (
            IdentityCheck.objects.filter(
                customer_id=check.customer_id, status=IdentityCheck.Status.REJECTED
            ).count()
            if check.customer_id
            else 0
        )
        if rejections >= FLAG_AFTER_REJECTIONS:
            flagged = CustomerProfile.objects.filter(user_id=check.customer_id).update(
                identity_flagged=True
            )
            if flagged:
                audit.record(
                    action="identity.account_flagged",
                    target=check.customer,
                    actor=reviewer,
                    note=f"{rejections} rejected identity checks",
                )
    ticket.refresh_from_db()
    _notify(ticket, "rejected")
    return ticket


def _fee_plan(sim: Sim) -> Plan:
    plan = (
        Plan.objects.filter(kind=PlanKind.REPLACEMENT, operator_id=sim.operator_id, is_active=True)
        .supplied()
        .first()
    )
    if plan is None:
        raise OrderError(
            "replacement_unavailable", _("Replacement is not offered for this operator.")
        )
    return plan


def _notify(ticket: ReplacementTicket, event: str) -> None:
    from orders import tasks

    tasks.send_replacement_email.delay_on_commit(ticket.pk, event)
