"""What is sold: operators, upstream providers, plans and their retail prices."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.chinese import for_language, is_chinese
from core.money import currency_field, money_field, show_money
from plans.providers import Capability, adapters_offering, capabilities_of


class Operator(models.Model):
    """A mobile network operator (Jazz, Zong, Telenor, Ufone)."""

    code = models.SlugField(verbose_name=_("code"), max_length=20, unique=True)
    name = models.CharField(verbose_name=_("name"), max_length=100)
    country = models.CharField(verbose_name=_("country"), max_length=2, default="PK")
    supports_esim = models.BooleanField(verbose_name=_("supports eSIM"), default=False)
    supports_recharge = models.BooleanField(verbose_name=_("supports recharge"), default=False)
    apn = models.CharField(
        verbose_name=_("APN"),
        max_length=100,
        blank=True,
        help_text=_("APN, if phones need it set."),
    )
    ordering = models.PositiveSmallIntegerField(verbose_name=_("ordering"), default=0)

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["ordering", "name"]

    def __str__(self):
        return self.name


class OperatorPrefix(models.Model):
    """A mobile number prefix (after the country code) used to guess a number's operator.

    Numbers can be ported between operators, so a detected operator is only a suggestion.
    """

    operator = models.ForeignKey(
        Operator, verbose_name=_("operator"), on_delete=models.CASCADE, related_name="prefixes"
    )
    prefix = models.CharField(
        verbose_name=_("prefix"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^3\d{2,4}$")],
    )

    class Meta:
        verbose_name = _("operator prefix")
        ordering = ["prefix"]
        verbose_name_plural = _("operator prefixes")

    def __str__(self):
        return f"0{self.prefix} → {self.operator}"


class Provider(models.Model):
    """An upstream that issues eSIM profiles, applies renewals or sends recharges."""

    class Adapter(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (built in)")
        AIRALO = "airalo", "Airalo Partner API"
        ESIM_ACCESS = "esimaccess", "eSIM Access"
        RELOADLY = "reloadly", "Reloadly Airtime"

    name = models.CharField(verbose_name=_("name"), max_length=100)
    adapter = models.CharField(verbose_name=_("adapter"), max_length=20, choices=Adapter.choices)
    settings = models.JSONField(
        verbose_name=_("settings"),
        default=dict,
        blank=True,
        help_text=_("Non-secret options; secrets come from env."),
    )
    is_active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
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

    operator = models.ForeignKey(
        Operator, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="plans"
    )
    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="plans"
    )
    provider_sku = models.CharField(verbose_name=_("provider SKU"), max_length=100)
    kind = models.CharField(verbose_name=_("kind"), max_length=20, choices=PlanKind.choices)
    name = models.CharField(verbose_name=_("name"), max_length=150)
    name_zh = models.CharField(verbose_name=_("Chinese name"), max_length=150, blank=True)
    data_mb = models.PositiveIntegerField(
        verbose_name=_("data (MB)"), null=True, blank=True, help_text=_("Empty: no data.")
    )
    data_unlimited = models.BooleanField(verbose_name=_("data unlimited"), default=False)
    minutes = models.PositiveIntegerField(verbose_name=_("minutes"), null=True, blank=True)
    sms = models.PositiveIntegerField(verbose_name=_("SMS"), null=True, blank=True)
    airtime_amount = money_field(
        verbose_name=_("airtime amount"),
        null=True,
        blank=True,
        help_text=_("Airtime credited by a recharge, in PKR."),
    )
    validity_days = models.PositiveSmallIntegerField(
        verbose_name=_("validity days"), validators=[MinValueValidator(0), MaxValueValidator(3650)]
    )
    period = models.CharField(verbose_name=_("period"), max_length=10, choices=Period.choices)
    cost = money_field(verbose_name=_("cost"), validators=[MinValueValidator(0)])
    cost_currency = currency_field(verbose_name=_("cost currency"))
    is_active = models.BooleanField(verbose_name=_("active"), default=True, db_index=True)
    ordering = models.PositiveIntegerField(verbose_name=_("ordering"), default=0)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
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
        """The name in the active language (Chinese, in its script, when we have one)."""
        if self.name_zh and is_chinese():
            return for_language(self.name_zh)
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

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="prices"
    )
    currency = currency_field(verbose_name=_("currency"))
    amount = money_field(verbose_name=_("amount"), validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("plan price")
        verbose_name_plural = _("plan prices")
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency"], name="plan_price_per_currency"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="plan_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.plan}: {show_money(self.amount, self.currency)}"
