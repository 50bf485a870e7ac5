"""What is sold: operators, upstream providers, plans, prices, price rules and promotions."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import PriceTier
from core.money import currency_field, money_field
from plans.providers import Capability, adapters_offering, capabilities_of


class Operator(models.Model):
    """A mobile network operator (Jazz, Zong, Telenor, Ufone)."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="PK")
    supports_esim = models.BooleanField(default=False)
    supports_recharge = models.BooleanField(default=False)
    apn = models.CharField(max_length=100, blank=True, help_text=_("APN, if phones need it set."))
    ordering = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["ordering", "name"]

    def __str__(self):
        return self.name


class OperatorPrefix(models.Model):
    """A mobile number prefix (after the country code) used to guess a number's operator.

    Numbers can be ported between operators, so a detected operator is only a suggestion.
    """

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="prefixes")
    prefix = models.CharField(max_length=6, unique=True, validators=[RegexValidator(r"^3\d{2,4}$")])

    class Meta:
        ordering = ["prefix"]
        verbose_name_plural = "operator prefixes"

    def __str__(self):
        return f"0{self.prefix} → {self.operator}"


class Provider(models.Model):
    """An upstream that issues eSIM profiles, applies renewals or sends recharges."""

    class Adapter(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (built in)")
        AIRALO = "airalo", "Airalo Partner API"
        ESIM_ACCESS = "esimaccess", "eSIM Access"
        RELOADLY = "reloadly", "Reloadly Airtime"

    name = models.CharField(max_length=100)
    adapter = models.CharField(max_length=20, choices=Adapter.choices)
    settings = models.JSONField(
        default=dict, blank=True, help_text=_("Non-secret options; secrets come from env.")
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="provider_name_unique")]

    def __str__(self):
        return self.name


class PlanKind(models.TextChoices):
    ESIM = "esim", _("eSIM plan")
    RENEWAL = "renewal", _("eSIM renewal")
    RECHARGE = "recharge", _("Physical SIM recharge")
    REPLACEMENT = "replacement", _("eSIM replacement fee")


# What a plan's provider must be able to do for a plan of each kind (a replacement is a new eSIM).
CAPABILITY_FOR_KIND = {
    PlanKind.ESIM: Capability.ISSUE_ESIM,
    PlanKind.RENEWAL: Capability.RENEW,
    PlanKind.RECHARGE: Capability.RECHARGE,
    PlanKind.REPLACEMENT: Capability.ISSUE_ESIM,
}


class Period(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")
    NONE = "none", _("No expiry")


class PlanQuerySet(models.QuerySet):
    def supplied(self):
        """Plans whose provider can do what their kind needs (``CAPABILITY_FOR_KIND``)."""
        served = Q()
        for kind, capability in CAPABILITY_FOR_KIND.items():
            served |= Q(kind=kind, provider__adapter__in=adapters_offering(capability))
        return self.filter(served)


class Plan(models.Model):
    """A sellable plan (套餐): an eSIM with data, a renewal of one, or a physical-SIM recharge."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="plans")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="plans")
    provider_sku = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=PlanKind.choices)
    name = models.CharField(max_length=150)
    name_zh = models.CharField(max_length=150, blank=True)
    data_mb = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: no data."))
    data_unlimited = models.BooleanField(default=False)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    sms = models.PositiveIntegerField(null=True, blank=True)
    airtime_amount = money_field(
        null=True, blank=True, help_text=_("Airtime credited by a recharge, in PKR.")
    )
    validity_days = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(3650)]
    )
    period = models.CharField(max_length=10, choices=Period.choices)
    cost = money_field(validators=[MinValueValidator(0)])
    cost_currency = currency_field()
    is_active = models.BooleanField(default=True, db_index=True)
    ordering = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["operator__ordering", "ordering", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_sku"], name="plan_sku_unique"),
            models.CheckConstraint(
                condition=~Q(data_unlimited=True, data_mb__isnull=False),
                name="plan_unlimited_has_no_cap",
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="plan_cost_gte_0"),
        ]
        indexes = [models.Index(fields=["kind", "is_active", "operator"])]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the active language (Chinese when it is active and we have one)."""
        from django.utils.translation import get_language

        if self.name_zh and (get_language() or "").startswith("zh"):
            return self.name_zh
        return self.name

    @property
    def has_data(self) -> bool:
        return self.data_unlimited or bool(self.data_mb)

    @property
    def is_supplied(self) -> bool:
        """Whether the plan's provider can do what the plan's kind needs."""
        needed = CAPABILITY_FOR_KIND.get(self.kind)
        return needed is None or needed in capabilities_of(self.provider.adapter)

    def clean(self):
        super().clean()
        if self.provider_id and self.kind and not self.is_supplied:
            raise ValidationError(
                {
                    "kind": _("%(provider)s cannot supply plans of the kind “%(kind)s”.")
                    % {"provider": self.provider, "kind": self.get_kind_display()}
                }
            )


class PlanPrice(models.Model):
    """The retail price of a plan in one currency."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    currency = currency_field()
    amount = money_field(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="plan_price_per_currency"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="plan_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.plan}: {self.currency} {self.amount}"


class PartnerPriceRule(models.Model):
    """A partner's price: the retail price less a discount, by tier, optionally per operator/plan.

    The most specific rule wins: plan, then operator, then the whole tier.
    """

    tier = models.CharField(max_length=20, choices=PriceTier.choices)
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.CASCADE)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.CASCADE)
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text=_("Negative for a markup."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tier"],
                condition=Q(operator__isnull=True, plan__isnull=True),
                name="partner_price_rule_one_per_tier",
            ),
            models.UniqueConstraint(
                fields=["tier", "operator"],
                condition=Q(operator__isnull=False),
                name="partner_price_rule_one_per_operator",
            ),
            models.UniqueConstraint(
                fields=["tier", "plan"],
                condition=Q(plan__isnull=False),
                name="partner_price_rule_one_per_plan",
            ),
            models.CheckConstraint(
                condition=Q(operator__isnull=True) | Q(plan__isnull=True),
                name="partner_price_rule_operator_or_plan",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=-100, discount_percent__lte=100),
                name="partner_price_rule_discount_range",
            ),
        ]

    def __str__(self):
        scope = self.plan or self.operator or _("all plans")
        return f"{self.get_tier_display()} · {scope}: {self.discount_percent}%"


class Promotion(models.Model):
    """A promotion code: a percentage or a fixed amount off, within a validity window."""

    code = models.CharField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    percent_off = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount_off = money_field(null=True, blank=True, validators=[MinValueValidator(0)])
    amount_currency = currency_field(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(percent_off__isnull=False, amount_off__isnull=True, amount_currency="")
                    | Q(percent_off__isnull=True, amount_off__isnull=False) & ~Q(amount_currency="")
                ),
                name="promotion_one_kind_of_discount",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="promotion_window_ordered",
            ),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)


from plans.models_calls import ProviderCall  # noqa: E402,F401
from plans.models_sandbox import SandboxOrder  # noqa: E402,F401
