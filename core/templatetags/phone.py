"""``{{ msisdn|national }}``: a stored number as the site shows it (``core.phone``)."""

from django import template

from core.phone import national_number

register = template.Library()


@register.filter(name="national")
def national_filter(msisdn: str | None) -> str:
    """The number in its national form, or "" for none."""
    return national_number(msisdn or "")
