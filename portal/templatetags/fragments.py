"""The parts every page shares (head links, header, footer), each rendered once per process for
what it shows."""

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

from core.brand import brand_name

register = template.Library()
# Rendered fragments by everything they show (the key below); started over when full.
FRAGMENTS_KEPT = 256
_fragments: dict[tuple, str] = {}


@register.simple_tag
def fragment(template_name: str, **shown) -> str:
    """``template_name`` rendered with ``shown`` as its only context, kept by those values and by
    the language, the brand, the links' prefix, the URLconf and the static files' URL: equal
    keys, equal HTML. A fragment reads nothing of the request but what it is given."""
    key = (
        template_name,
        get_language(),
        brand_name(),
        get_script_prefix(),
        get_urlconf(),
        settings.STATIC_URL,
        *sorted(shown.items()),
    )
    html = _fragments.get(key)
    if html is None:
        html = get_template(template_name).render(shown)
        if len(_fragments) >= FRAGMENTS_KEPT:
            _fragments.clear()
        _fragments[key] = html
    return html
