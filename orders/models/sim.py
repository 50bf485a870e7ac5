"""SIMs (lines) we issued or serve, and the provider calls that set them up."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.saves import CompiledSaves
from core.state import TransitionMap
from core.validators import validate_e164, validate_iccid


class Sim(CompiledSaves):
    class Form(models.TextChoices):
        ESIM = "esim", _("eSIM")
        PHYSICAL = "physical", _("Physical SIM")

    class Status(models.TextChoices):
        ISSUED = "issued", _("Ready to install")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        REPLACED = "replaced", _("Replaced")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = TransitionMap(
        Status,
        {
            Status.ISSUED: {Status.ACTIVE, Status.EXPIRED, Status.REPLACED, Status.CANCELLED},
            Status.ACTIVE: {Status.EXPIRED, Status.REPLACED, Status.CANCELLED},
            Status.EXPIRED: {Status.ACTIVE, Status.REPLACED, Status.CANCELLED},
        },
    )

    iccid = models.CharField(
        verbose_name=_("ICCID"), max_length=22, unique=True, validators=[validate_iccid]
    )
    msisdn = models.CharField(
        verbose_name=_("MSISDN"),
        max_length=16,
        blank=True,
        db_index=True,
        validators=[validate_e164],
    )
    form = models.CharField(
        verbose_name=_("form"), max_length=10, choices=Form.choices, default=Form.ESIM
    )
    operator = models.ForeignKey(
        "plans.Operator", verbose_name=_("operator"), on_delete=models.PROTECT, related_name="sims"
    )
    provider = models.ForeignKey(
        "plans.Provider",
        verbose_name=_("provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sims",
    )
    provider_reference = models.CharField(
        verbose_name=_("provider reference"), max_length=100, blank=True, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sims",
    )
    partner = models.ForeignKey(
        "accounts.Partner",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sims",
    )
    issued_by_order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("issued by order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issued_sims",
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=20, choices=Status.choices, default=Status.ISSUED
    )
    activation_code = models.CharField(
        verbose_name=_("activation code"), max_length=255, blank=True
    )
    confirmation_code = models.CharField(
        verbose_name=_("confirmation code"), max_length=20, blank=True
    )
    current_plan = models.ForeignKey(
        "plans.Plan",
        verbose_name=_("current plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    data_total_mb = models.PositiveIntegerField(
        verbose_name=_("total data (MB)"), null=True, blank=True
    )
    data_remaining_mb = models.PositiveIntegerField(
        verbose_name=_("data left (MB)"), null=True, blank=True
    )
    expires_at = models.DateTimeField(
        verbose_name=_("expires at"), null=True, blank=True, db_index=True
    )
    usage_synced_at = models.DateTimeField(verbose_name=_("usage synced at"), null=True, blank=True)
    # A usage sync run's claim on this SIM: no other run reads it until the claim is released or
    # its lease ends (orders/services/usage.py).
    usage_sync_claim = models.UUIDField(
        verbose_name=_("usage sync claim"), null=True, blank=True, editable=False
    )
    usage_sync_claimed_until = models.DateTimeField(
        verbose_name=_("usage sync claimed until"), null=True, blank=True, editable=False
    )
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SIM")
        verbose_name_plural = _("SIMs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=True) | Q(partner__isnull=True),
                name="sim_has_at_most_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(data_remaining_mb__isnull=True)
                | Q(data_total_mb__isnull=False, data_remaining_mb__lte=models.F("data_total_mb")),
                name="sim_remaining_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # The partner API's SIM list: the partner's, in the cursor's order, no sort.
            models.Index(fields=["partner", "-created_at", "-id"], name="sim_partner_created_idx"),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["usage_synced_at", "id"], name="sim_usage_sync_order"),
            models.Index(fields=["-created_at", "-id"], name="sim_created_idx"),
        ]

    def __str__(self):
        return f"{self.operator} …{self.iccid[-6:]}"

    def save(self, *args, **kwargs):
        """Refuse a malformed ICCID or MSISDN whatever path writes the row."""
        self.check_numbers()
        super().save(*args, **kwargs)

    @classmethod
    def insert_new(cls, objs: list, using: str = DEFAULT_DB_ALIAS) -> None:
        for sim in objs:
            sim.check_numbers()
        super().insert_new(objs, using)

    def check_numbers(self) -> None:
        """Refuse a malformed ICCID or MSISDN."""
        validate_iccid(self.iccid)
        if self.msisdn:
            validate_e164(self.msisdn)

    @property
    def smdp_address(self) -> str:
        """SM-DP+ address from ``LPA:1$<address>$<matching id>``."""
        return activation_parts(self.activation_code)[0]

    @property
    def matching_id(self) -> str:
        return activation_parts(self.activation_code)[1]


def activation_parts(activation_code: str) -> tuple[str, str]:
    """(SM-DP+ address, matching id) of ``LPA:1$<address>$<matching id>``; empty when malformed."""
    parts = activation_code.split("$")
    return (parts[1], parts[2]) if len(parts) >= 3 else ("", "")


class ProvisioningAttempt(CompiledSaves):
    """One call to an upstream for an order: what we sent, what came back."""

    class Operation(models.TextChoices):
        ISSUE = "issue", _("Issue eSIM")
        RENEW = "renew", _("Renew")
        RECHARGE = "recharge", _("Recharge")
        CANCEL = "cancel", _("Cancel")
        TOP_UP = "top_up", _("Top up at our cost")

    class Outcome(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUCCEEDED = "succeeded", _("Succeeded")
        TRANSIENT_ERROR = "transient_error", _("Temporary error")
        PERMANENT_ERROR = "permanent_error", _("Permanent error")

    TRANSITIONS = TransitionMap(
        Outcome,
        {
            Outcome.IN_PROGRESS: {
                Outcome.SUCCEEDED,
                Outcome.TRANSIENT_ERROR,
                Outcome.PERMANENT_ERROR,
            }
        },
    )

    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="provisioning_attempts",
    )
    number = models.PositiveSmallIntegerField(verbose_name=_("number"))
    provider = models.ForeignKey(
        "plans.Provider", verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    operation = models.CharField(
        verbose_name=_("operation"), max_length=20, choices=Operation.choices
    )
    reference = models.CharField(verbose_name=_("reference"), max_length=100, db_index=True)
    outcome = models.CharField(
        verbose_name=_("outcome"),
        max_length=20,
        choices=Outcome.choices,
        default=Outcome.IN_PROGRESS,
    )
    request_summary = models.TextField(verbose_name=_("request summary"), blank=True)
    response_summary = models.TextField(verbose_name=_("response summary"), blank=True)
    error = models.TextField(verbose_name=_("error"), blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("provisioning attempt")
        verbose_name_plural = _("provisioning attempts")
        ordering = ["order", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="attempt_number_per_order")
        ]
        indexes = [
            models.Index(  # /metrics: provider errors of the last hour
                fields=["finished_at"],
                condition=models.Q(outcome__in=["transient_error", "permanent_error"]),
                name="attempt_error_finished_idx",
            )
        ]

    def __str__(self):
        return f"{self.order} attempt {self.number}: {self.outcome}"
