"""Response headers for every page: a Content-Security-Policy on the customer site, the admin
and the interactive API docs.

Everything is served by the portal itself (the Swagger UI from drf-spectacular-sidecar's static
files): no outside CDN. No inline script runs anywhere; the few inline styles and the one inline
event handler that the admin and the docs need from templates we do not own are allowed by their
SHA-256 hashes, never with ``'unsafe-inline'``.
"""

import base64
import hashlib
import re
from functools import cache

from django.conf import settings
from django.template.loader import get_template

# The customer site: no inline scripts or styles at all.
DEFAULT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)

ADMIN_PREFIX = "/admin/"
API_DOCS_PREFIX = "/api/v1/docs/"

# Inline code in templates we do not own, allowed by hash (``'unsafe-hashes'`` lets a hash match an
# event handler or a style attribute of exactly this text, and nothing else).
# django-import-export's export page: the "Select all" box.
ADMIN_EVENT_HANDLERS = ("onSelectToggleChange(event)",)
ADMIN_STYLE_ATTRIBUTES = (
    "padding: 0;",  # django-import-export's export page
    "font-weight: bold;",  # django-import-export's export page
    "width: 100%",  # the order page's timeline (orders/templates/admin/orders/order/)
)
# Templates whose <style> elements are allowed as installed (they hold no template tags).
ADMIN_STYLE_TEMPLATES = ("admin/change_list.html",)  # when a list has no actions
API_DOCS_STYLE_TEMPLATES = ("drf_spectacular/swagger_ui.html",)

STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)

# Shared by the admin and the docs: only this origin, nothing framed, no plugins, no <base>.
STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def sha256_source(text: str) -> str:
    """A CSP hash source for ``text`` (an inline element's content or an attribute's value)."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def inline_styles(template_name: str) -> list[str]:
    """The contents of the ``<style>`` elements of a template, as the loader finds it."""
    return STYLE_ELEMENT.findall(get_template(template_name).template.source)


def build_policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


@cache
def admin_policy() -> str:
    style_hashes = [sha256_source(text) for text in ADMIN_STYLE_ATTRIBUTES] + [
        sha256_source(text) for name in ADMIN_STYLE_TEMPLATES for text in inline_styles(name)
    ]
    return build_policy(
        {
            **STRICT_DIRECTIVES,
            "script-src": " ".join(
                ["'self'", "'unsafe-hashes'", *map(sha256_source, ADMIN_EVENT_HANDLERS)]
            ),
            "style-src": " ".join(["'self'", "'unsafe-hashes'", *style_hashes]),
        }
    )


@cache
def api_docs_policy() -> str:
    style_hashes = [
        sha256_source(text) for name in API_DOCS_STYLE_TEMPLATES for text in inline_styles(name)
    ]
    return build_policy(
        {
            **STRICT_DIRECTIVES,
            "script-src": "'self'",
            "style-src": " ".join(["'self'", *style_hashes]),
        }
    )


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header: the site's, the admin's or the API docs'."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        policy = self.policy_for(request.path)
        extra_actions = getattr(response, "csp_form_actions", ())
        if extra_actions:  # a page that posts a form to another site (a wallet's checkout)
            policy = re.sub(
                r"form-action ([^;]*)",
                lambda m: f"form-action {m[1]} {' '.join(extra_actions)}",
                policy,
            )
        response.headers.setdefault("Content-Security-Policy", policy)
        return response

    def policy_for(self, path: str) -> str:
        if path.startswith(ADMIN_PREFIX):
            return admin_policy()
        if path.startswith(API_DOCS_PREFIX):
            return api_docs_policy()
        return self.policy
