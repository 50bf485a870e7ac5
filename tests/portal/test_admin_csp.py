"""The admin and the interactive API docs carry a strict Content-Security-Policy, and what they
load obeys it: every script from this origin, no inline script, each inline style hashed."""

import base64
import hashlib
import io
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts import documents
from accounts.models import IdentityDocument
from tests.factories import OrderFactory, ReplacementTicketFactory
from tests.portal.admin_rows import add_rows

pytestmark = pytest.mark.django_db
LOOSE = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "blob:", "http:", "https:"}


def parse_policy(header: str) -> dict[str, list[str]]:
    policy = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *sources = directive.split()
        assert name not in policy, f"{name} given twice"
        policy[name] = sources
    return policy


def assert_strict(response) -> dict[str, list[str]]:
    assert "Content-Security-Policy" in response, f"no CSP on {response.request['PATH_INFO']}"
    policy = parse_policy(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] in (["'none'"], ["'self'"])
    assert "'self'" in policy["script-src"]
    assert not LOOSE & set(policy["script-src"])
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(policy["style-src"])
    assert not LOOSE - {"data:"} & set(policy["img-src"])
    return policy


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


class InlineCode(HTMLParser):
    """Collects what a page runs or styles inline and what it loads from where."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.styles, self.style_attributes, self.handlers = [], [], [], []
        self.sources = []
        self._inside = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.handlers.append(value or "")
        if "style" in attrs:
            self.style_attributes.append(attrs["style"] or "")
        if tag == "script" and attrs.get("src"):
            self.sources.append(attrs["src"])
        elif tag == "script" and attrs.get("type", "text/javascript") in (
            "text/javascript",
            "module",
            "",
        ):
            self._inside = (self.scripts, [])
        elif tag == "style":
            self._inside = (self.styles, [])
        elif tag == "link" and attrs.get("href"):
            self.sources.append(attrs["href"])
        elif tag in ("img", "iframe", "embed", "object") and attrs.get("src"):
            self.sources.append(attrs["src"])

    def handle_data(self, data):
        if self._inside:
            self._inside[1].append(data)

    def handle_endtag(self, tag):
        if self._inside and tag in ("script", "style"):
            into, parts = self._inside
            into.append("".join(parts))
            self._inside = None


def assert_obeys(response) -> dict[str, list[str]]:
    """The page's inline code is all allowed by its policy, and it loads only from here."""
    policy = assert_strict(response)
    page = InlineCode()
    page.feed(response.content.decode())
    assert page.scripts == [], "inline <script> runs nowhere"
    for text in page.styles:
        assert sha256_source(text) in policy["style-src"], f"<style> not allowed: {text!r}"
    for text in page.style_attributes:
        assert "'unsafe-hashes'" in policy["style-src"], f"style={text!r} needs 'unsafe-hashes'"
        assert sha256_source(text) in policy["style-src"], f"style={text!r} not allowed"
    for text in page.handlers:
        assert "'unsafe-hashes'" in policy["script-src"], f"handler {text!r} not allowed"
        assert sha256_source(text) in policy["script-src"], f"handler {text!r} not allowed"
    for source in page.sources:
        assert source.startswith("/") and not source.startswith("//"), f"loads {source}"
    return policy


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 180, 160)).save(out, "JPEG")
    return SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def identity_check(settings, tmp_path):
    configured = settings.STORAGES["default"]
    options = {**configured.get("OPTIONS", {}), "location": tmp_path / "media"}
    default = {"BACKEND": configured["BACKEND"], "OPTIONS": options}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    check = ReplacementTicketFactory().identity_check
    for kind in IdentityDocument.Kind.values:
        documents.store_document(check=check, kind=kind, upload=jpeg())
    return check


def test_admin_index_with_the_dashboard_has_a_strict_policy(client, signed_in_superuser):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b'class="dash-chart"' in response.content  # the inline SVG charts
    assert_obeys(response)


def test_identity_review_page_has_a_strict_policy_and_shows_the_documents(
    client, signed_in_superuser, identity_check
):
    response = client.get(reverse("admin:accounts_identitycheck_change", args=[identity_check.pk]))
    assert response.status_code == 200
    policy = assert_obeys(response)
    assert "'self'" in policy["img-src"]
    images = [d.pk for d in identity_check.documents.all()]
    for pk in images:
        url = reverse("admin:identitydocument_view", args=[pk])
        assert f'src="{url}"'.encode() in response.content
        document = client.get(url)
        assert document.status_code == 200 and document["Content-Type"] == "image/jpeg"
        assert_strict(document)


def test_api_docs_have_a_strict_policy_and_no_inline_script(client, signed_in_superuser):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = assert_obeys(response)
    assert policy["script-src"] == ["'self'"]
    page = InlineCode()
    page.feed(response.content.decode())
    assert any("swagger-ui-bundle.js" in source for source in page.sources)
    start_up = next(s for s in page.sources if "script" in s.split("?", 1)[-1])
    script = client.get(start_up)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle(" in script.content
    assert b"validator.swagger.io" not in script.content


def test_the_docs_are_strict_for_visitors_too(client, db):
    assert_obeys(client.get("/api/v1/docs/"))


def test_admin_pages_that_bring_inline_styles_or_handlers_obey_the_policy(
    client, signed_in_superuser
):
    export = client.get(reverse("admin:plans_plan_export"))  # django-import-export's page
    assert export.status_code == 200
    assert b"onSelectToggleChange" in export.content
    assert_obeys(export)
    order = OrderFactory()
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert_obeys(page)


def test_every_admin_list_obeys_the_policy(client, signed_in_superuser):
    for model in admin.site._registry:
        add_rows(model, 1)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        assert_obeys(response)


def test_the_customer_site_keeps_its_own_policy(client, db):
    policy = assert_strict(client.get("/"))
    assert policy["style-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
