"""The admin in Chinese has no English left in model names, column headers, filter titles,
action names, fieldset headings and field labels (product names and codes aside)."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from accounts.models import IdentityCheck
from tests.factories import ReplacementTicketFactory
from tests.portal.admin_rows import add_rows

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
# Names and codes that stay as they are in Chinese text.
KEPT = re.compile(
    r"(?<![A-Za-z])(?:SM-DP\+|e?SIMs?|ICCID|MSISDN|CNIC|APN|SHA|API|SKU|PKR|CNY|USD|ISO|URL|ID|"
    r"LPA|HMAC|IP|TOTP|JSON|CSV|XLSX|HTTPS?|SMS|GB|MB|Webhook|Stripe|Jazz|Zong|Telenor|Ufone|"
    r"Airalo|Reloadly|eSIMAccess|JazzCash|Easypaisa|Alipay|WeChat Pay|Visa)(?![A-Za-z])"
)
ENGLISH = re.compile(r"[A-Za-z]{2,}")


class Labels(HTMLParser):
    """Text of the elements that name things: headings, table headers, labels, filter titles,
    breadcrumbs, the sidebar's app and model names, and the action menu."""

    NAMING = {"h1", "h2", "h3", "label", "summary", "caption"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.current: list[str] | None = None
        self.depth = 0

    def _naming(self, tag: str, attrs: dict) -> bool:
        inside = {name for name, _ in self.stack}
        classes = {c for _, a in self.stack for c in (a.get("class") or "").split()}
        if tag in self.NAMING or (tag == "th" and ("thead" in inside or attrs.get("scope"))):
            return True
        if tag == "option" and any(a.get("name") == "action" for _, a in self.stack):
            return True
        return tag == "div" and "breadcrumbs" in (attrs.get("class") or "") and not classes

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"input", "br", "img", "meta", "link", "hr"}:
            return
        if self.current is None and self._naming(tag, attrs):
            self.current, self.depth = [], len(self.stack)
        self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            name, _ = self.stack.pop()
            if self.current is not None and len(self.stack) == self.depth:
                self.texts.append(" ".join("".join(self.current).split()))
                self.current = None
            if name == tag:
                break

    def handle_data(self, data):
        if self.current is not None:
            self.current.append(data)


def english_left(page: str, data: set[str]) -> list[str]:
    """Naming texts of ``page`` with English words once product names, codes and ``data`` go."""
    parser = Labels()
    parser.feed(page)
    brands = set(settings.PORTAL_BRAND.values())
    left = []
    for text in parser.texts:
        stripped = text
        for value in sorted(data | brands, key=len, reverse=True):
            stripped = stripped.replace(value, "")
        if ENGLISH.search(KEPT.sub("", stripped)):
            left.append(text)
    return left


def model_pages(client, model) -> dict[str, str]:
    """The changelist, the change page of its first row and the add page (when staff may add)."""
    add_rows(model, 2)
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    pages = {"changelist": client.get(reverse(f"{info}_changelist"))}
    row = model._default_manager.order_by("pk").first()
    if model is IdentityCheck:  # its change page is the review of a replacement's documents
        row = ReplacementTicketFactory().identity_check
    pages["change"] = client.get(reverse(f"{info}_change", args=[row.pk]))
    add = client.get(reverse(f"{info}_add"))
    if add.status_code != 403:
        pages["add"] = add
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.status_code)
    return {name: response.content.decode() for name, response in pages.items()}


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_admin_pages_speak_chinese(client, signed_in_superuser, settings, model):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    pages = model_pages(client, model)
    data = {str(row) for row in model._default_manager.all()}
    left = [f"{name}: {text}" for name, page in pages.items() for text in english_left(page, data)]
    assert not left, "English left:\n" + "\n".join(left)
