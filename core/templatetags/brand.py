"""``{% brand %}``: the shop's name in the page's language (``core.brand``)."""

from django import template

from core.brand import brand_name

register = template.Library()


@register.simple_tag(name="brand")
def brand_tag() -> str:
    """The brand in the active language."""
    return brand_name()
