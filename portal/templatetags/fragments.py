"""The site header's navigation, rendered once per process for what it shows."""

from django import template
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from core.brand import brand_name

register = template.Library()
# Rendered navigations by everything they show (the key below); started over when full.
NAVS_KEPT = 256
_navs: dict[tuple, str] = {}


@register.simple_tag(takes_context=True)
def site_nav(context) -> str:
    """``portal/nav.html`` for the language, the brand, the links' prefix and URLconf, whether
    someone is signed in and their unread count: equal keys, equal HTML."""
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    unread = context.get("unread_notifications", 0) if signed_in else 0
    key = (get_language(), brand_name(), get_script_prefix(), get_urlconf(), signed_in, unread)
    html = _navs.get(key)
    if html is None:
        nav = {"signed_in": signed_in, "unread_notifications": unread}
        html = get_template("portal/nav.html").render(nav)
        if len(_navs) >= NAVS_KEPT:
            _navs.clear()
        _navs[key] = html
    return html
