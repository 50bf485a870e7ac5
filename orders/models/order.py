"""Orders: what a customer or partner bought, and where it is on the way to fulfilment."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.money import currency_field, money_field
from core.saves import CompiledSaves
from core.state import TransitionMap

ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def new_order_number() -> str:
    """A public order number such as ``PK-7F3K9Q2M``."""
    return "PK-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


class Order(CompiledSaves):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("New eSIM")
        RENEWAL = "renewal", _("Renewal")
        RECHARGE = "recharge", _("Recharge")
        REPLACEMENT = "replacement", _("Replacement")

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        PROVISIONING = "provisioning", _("Being set up")
        FULFILLED = "fulfilled", _("Ready")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        NEEDS_ATTENTION = "needs_attention", _("Needs attention")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    TRANSITIONS = TransitionMap(
        Status,
        {
            Status.CREATED: {Status.AWAITING_PAYMENT, Status.PAID, Status.CANCELLED},
            # A refund reported before the payment's success event records the payment (and
            # pays the order) first, then refunds it: an order is refunded only once paid.
            Status.AWAITING_PAYMENT: {Status.PAID, Status.PAYMENT_FAILED, Status.CANCELLED},
            Status.PAYMENT_FAILED: {Status.AWAITING_PAYMENT, Status.PAID, Status.CANCELLED},
            Status.PAID: {Status.PROVISIONING, Status.REFUNDED},
            # Refunded while the upstream call runs: its result is recorded, then undone.
            Status.PROVISIONING: {Status.FULFILLED, Status.NEEDS_ATTENTION, Status.REFUNDED},
            Status.NEEDS_ATTENTION: {Status.PROVISIONING, Status.REFUNDED},
            Status.FULFILLED: {Status.REFUNDED},
        },
    )

    number = models.CharField(
        verbose_name=_("order number"), max_length=20, unique=True, default=new_order_number
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.CREATED
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    plan = models.ForeignKey(
        "plans.Plan", verbose_name=_("plan"), on_delete=models.PROTECT, related_name="orders"
    )
    quantity = models.PositiveSmallIntegerField(verbose_name=_("quantity"), default=1)
    sim = models.ForeignKey(
        "orders.Sim",
        verbose_name=_("SIM"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text=_("The SIM renewed or replaced."),
    )
    recharge_msisdn = models.CharField(verbose_name=_("recharge MSISDN"), max_length=16, blank=True)
    recharge_operator = models.ForeignKey(
        "plans.Operator",
        verbose_name=_("recharge operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    currency = currency_field(verbose_name=_("currency"))
    subtotal = money_field(verbose_name=_("subtotal"))
    discount = money_field(verbose_name=_("discount"), default=0)
    total = money_field(verbose_name=_("total"))
    cost = money_field(
        verbose_name=_("cost"),
        null=True,
        blank=True,
        help_text=_("The plan's cost × quantity when the order was placed (the upstream's price)."),
    )
    cost_currency = currency_field(
        verbose_name=_("cost currency"), blank=True, help_text=_("The currency of the cost.")
    )
    promotion = models.ForeignKey(
        "plans.Promotion",
        verbose_name=_("promotion"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    idempotency_key = models.CharField(
        verbose_name=_("idempotency key"), max_length=100, blank=True
    )
    request_fingerprint = models.CharField(
        verbose_name=_("request fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the partner's request that placed it with its Idempotency-Key."),
    )
    customer_reference = models.CharField(
        verbose_name=_("customer reference"), max_length=100, blank=True
    )
    webhook_url = models.URLField(
        verbose_name=_("webhook URL"),
        blank=True,
        max_length=500,
        help_text=_("Partner URL told about this order's progress."),
    )
    upstream_reference = models.CharField(
        verbose_name=_("upstream reference"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("The upstream's order or operator transaction id."),
    )
    created_at = models.DateTimeField(
        verbose_name=_("created at"), auto_now_add=True, db_index=True
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    paid_at = models.DateTimeField(verbose_name=_("paid at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(verbose_name=_("fulfilled at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        verbose_name=_("next attempt at"),
        null=True,
        blank=True,
        help_text=_("When provisioning is next sent to a worker; empty when nothing is due."),
    )
    ready_email_claimed_at = models.DateTimeField(
        verbose_name=_("ready email claimed at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a worker took on the order-ready email; empty until then."),
    )
    # NULL (not yet recorded: read them from the SIMs) is not "" (recorded: none issued).
    issued_iccids = models.TextField(  # noqa: DJ001
        verbose_name=_("issued ICCIDs"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The ICCIDs of the SIMs it issued, oldest first, separated by spaces (empty: none), "
            "recorded with its fulfilment; unknown before."
        ),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False, partner__isnull=True)
                | Q(customer__isnull=True, partner__isnull=False),
                name="order_has_one_buyer",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0, subtotal__gte=0, discount__gte=0),
                name="order_amounts_gte_0",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_gte_1"),
            models.UniqueConstraint(
                fields=["partner", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_per_partner",
            ),
        ]
        indexes = [
            models.Index(  # the dispatcher: provisioning due now
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="order_next_attempt_idx",
            ),
            models.Index(fields=["customer", "-created_at"]),
            # The sweep of order-ready emails: customers' orders fulfilled in the last days.
            models.Index(
                fields=["fulfilled_at"],
                condition=Q(customer__isnull=False),
                name="order_customer_fulfilled_idx",
            ),
            # The partner API's order list: the partner's, in the cursor's order, no sort.
            models.Index(
                fields=["partner", "-created_at", "-id"], name="order_partner_created_idx"
            ),
            models.Index(fields=["status", "updated_at"]),
            # The admin: a status filter newest first, and the search by recharge number.
            models.Index(fields=["status", "-created_at"], name="order_status_created_idx"),
            models.Index(
                fields=["recharge_msisdn"],
                condition=~Q(recharge_msisdn=""),
                name="order_recharge_msisdn_idx",
            ),
        ]

    def __str__(self):
        return self.number

    def audit_entries(self):
        """This order's audit trail, newest first."""
        from core.audit import entries_for

        return entries_for(self)

    @property
    def provider_reference(self) -> str:
        """Our reference sent with every upstream call for this order (stable across retries)."""
        return f"ord-{self.number}"

    def issued_iccid_list(self) -> list[str]:
        """The ICCIDs of the SIMs this order issued, oldest first: as recorded with its
        fulfilment, else read from its SIMs."""
        if self.issued_iccids is not None:
            return self.issued_iccids.split()
        return list(self.issued_sims.order_by("id").values_list("iccid", flat=True))
