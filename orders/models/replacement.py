"""Replacement (补卡) tickets: a new SIM for the same line after loss or damage."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import currency_field
from core.state import TransitionMap
from orders import couriers


class ReplacementTicket(models.Model):
    class Reason(models.TextChoices):
        LOST = "lost", _("Lost phone")
        STOLEN = "stolen", _("Stolen phone")
        DAMAGED = "damaged", _("Damaged phone or SIM")
        NEW_PHONE = "new_phone", _("New phone")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        ISSUED = "issued", _("New SIM issued")
        SHIPPED = "shipped", _("Shipped")
        ACTIVATED = "activated", _("Delivered and activated")
        CANCELLED = "cancelled", _("Cancelled")

    # A physical SIM goes on by post: issued → shipped → activated (its old SIM retired then).
    # An eSIM's replacement ends at issued (its old SIM retired as the new one is issued).

    TRANSITIONS = TransitionMap(
        Status,
        {
            Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.CANCELLED},
            Status.APPROVED: {Status.ISSUED, Status.CANCELLED},
            Status.ISSUED: {Status.SHIPPED},
            Status.SHIPPED: {Status.ACTIVATED},
        },
    )

    sim = models.ForeignKey(
        "orders.Sim",
        verbose_name=_("SIM"),
        on_delete=models.PROTECT,
        related_name="replacement_tickets",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_tickets",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_check = models.OneToOneField(
        "accounts.IdentityCheck",
        verbose_name=_("identity check"),
        on_delete=models.PROTECT,
        related_name="replacement_ticket",
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_sim = models.OneToOneField(
        "orders.Sim",
        verbose_name=_("new SIM"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(verbose_name=_("reason"), max_length=20, choices=Reason.choices)
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED
    )
    currency = currency_field(
        verbose_name=_("currency"),
        default="PKR",
        help_text=_("Currency the customer pays any fee in."),
    )
    delivery_address = models.TextField(verbose_name=_("delivery address"), blank=True)
    courier = models.CharField(
        verbose_name=_("courier"),
        max_length=20,
        choices=couriers.CHOICES,
        blank=True,
        default="",
        db_default="",
    )
    tracking_number = models.CharField(
        verbose_name=_("tracking number"), max_length=100, blank=True
    )
    approved_at = models.DateTimeField(verbose_name=_("approved at"), null=True, blank=True)
    issued_at = models.DateTimeField(verbose_name=_("issued at"), null=True, blank=True)
    shipped_at = models.DateTimeField(verbose_name=_("shipped at"), null=True, blank=True)
    activated_at = models.DateTimeField(verbose_name=_("activated at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("replacement ticket")
        verbose_name_plural = _("replacement tickets")
        ordering = ["created_at"]
        constraints = [
            # At most one open request per SIM, guaranteed by the database (a SIM card's
            # request on its way by post is kept alone by request_replacement, under the SIM's
            # lock).
            models.UniqueConstraint(
                fields=["sim"],
                condition=models.Q(status__in=["submitted", "approved"]),
                name="replacement_one_open_per_sim",
            )
        ]

    def __str__(self):
        return f"Replacement #{self.pk} for {self.sim}"

    @property
    def tracking_url(self) -> str:
        """The courier's tracking page for this parcel ("" before it is shipped)."""
        return couriers.tracking_url(self.courier, self.tracking_number)

    @property
    def courier_name(self) -> str:
        return couriers.courier_name(self.courier)

    def steps(self) -> list[tuple[str, str, object]]:
        """The request's steps so far: (state, label, time), in order."""
        Status = self.Status
        times = [
            (Status.SUBMITTED, _("Requested"), self.created_at),
            (Status.APPROVED, _("Approved"), self.approved_at),
            (Status.ISSUED, _("New SIM issued"), self.issued_at),
            (Status.SHIPPED, _("Shipped"), self.shipped_at),
            (Status.ACTIVATED, _("Delivered and activated"), self.activated_at),
        ]
        return [(state, label, at) for state, label, at in times if at is not None]
