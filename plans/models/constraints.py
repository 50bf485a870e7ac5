"""Clear, field-level messages for the catalog models' database constraints.

Django reports a violated check or conditional unique constraint as "Constraint “name” is
violated." with no field. Admin forms and the catalog import check the named constraints first
with :func:`constraint_errors`, so staff see which field to fix and why.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# Constraint name: (the field the message belongs to, the message).
CONSTRAINT_MESSAGES = {
    "plan_unlimited_has_no_cap": (
        "data_mb",
        _("An unlimited plan has no data cap: leave the data (MB) empty."),
    ),
    "plan_cost_gte_0": ("cost", _("The cost cannot be negative.")),
    "partner_price_rule_operator_or_plan": (
        "plan",
        _("A rule applies to one operator or to one plan, not both: clear one of them."),
    ),
    "partner_price_rule_one_per_tier": (
        "tier",
        _("This tier already has a rule for all plans."),
    ),
    "partner_price_rule_one_per_operator": (
        "operator",
        _("This tier already has a rule for this operator."),
    ),
    "partner_price_rule_one_per_plan": ("plan", _("This tier already has a rule for this plan.")),
    "partner_price_rule_discount_range": (
        "discount_percent",
        _("The discount must be between -100 and 100 percent."),
    ),
    "promotion_one_kind_of_discount": (
        "percent_off",
        _("Give either a percentage off, or an amount off with its currency, not both."),
    ),
    "promotion_window_ordered": ("ends_at", _("The end must be after the start.")),
}


def constraint_errors(instance: models.Model, exclude=()) -> dict[str, list[str]]:
    """The messages of the named constraints ``instance`` violates, by field.

    Constraints that involve a field in ``exclude`` (one that already has an error) are not
    checked, as Django itself does.
    """
    errors: dict[str, list[str]] = {}
    for constraint in instance._meta.constraints:
        if constraint.name not in CONSTRAINT_MESSAGES:
            continue
        try:
            constraint.validate(type(instance), instance, exclude=set(exclude))
        except ValidationError:
            field, message = CONSTRAINT_MESSAGES[constraint.name]
            errors.setdefault(field, []).append(str(message))
    return errors
