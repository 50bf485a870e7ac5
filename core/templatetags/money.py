"""``{{ amount|money:currency }}``: an amount in its currency's minor units (``CNY 2.99``)."""

from django import template

from core.money import show_money

register = template.Library()


@register.filter
def money(amount, currency) -> str:
    """The amount with its currency, as every admin column shows money; a dash for none."""
    return show_money(amount, currency) or "—"
