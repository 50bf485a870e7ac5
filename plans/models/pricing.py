"""How prices move away from retail: partner price rules and promotion codes."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import PriceTier
from core.money import currency_field, money_field
from plans.models.catalog import Operator, Plan


class PartnerPriceRule(models.Model):
    """A partner's price: the retail price less a discount, by tier, optionally per operator/plan.

    The most specific rule wins: plan, then operator, then the whole tier.
    """

    tier = models.CharField(verbose_name=_("tier"), max_length=20, choices=PriceTier.choices)
    operator = models.ForeignKey(
        Operator, verbose_name=_("operator"), null=True, blank=True, on_delete=models.CASCADE
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), null=True, blank=True, on_delete=models.CASCADE
    )
    discount_percent = models.DecimalField(
        verbose_name=_("discount percent"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
        help_text=_("Negative for a markup."),
    )

    class Meta:
        verbose_name = _("partner price rule")
        verbose_name_plural = _("partner price rules")
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

    # Orders in these statuses never took effect, so they do not use up a promotion (at checkout
    # and in the admin's redemption count). They are ``orders.Order.Status`` values, written as
    # strings because orders sits above plans; a test checks each one is a real status.
    UNCOUNTED_ORDER_STATUSES = ("cancelled", "payment_failed")

    code = models.CharField(verbose_name=_("code"), max_length=40, unique=True)
    description = models.CharField(verbose_name=_("description"), max_length=200, blank=True)
    percent_off = models.DecimalField(
        verbose_name=_("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount_off = money_field(
        verbose_name=_("amount off"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    amount_currency = currency_field(verbose_name=_("amount currency"), blank=True)
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"), null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(
        verbose_name=_("max redemptions"), null=True, blank=True
    )
    is_active = models.BooleanField(verbose_name=_("active"), default=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
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
