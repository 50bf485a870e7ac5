"""Staff Markdown reaches the page as safe HTML: no raw HTML, no script links."""

import pytest
from django.urls import reverse

from help.markdown import render_markdown
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

HOSTILE = """# Title

<script>alert("x")</script>

<img src=x onerror="alert(1)">

[click](javascript:alert(1)) [CLICK](JaVaScRiPt:alert(1)) [data](data:text/html,<b>x</b>)

![pic](javascript:alert(1))

[safe](https://example.com/help) and **bold**
"""


def test_raw_html_is_shown_as_text_and_script_links_are_not_made():
    html = render_markdown(HOSTILE)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "&lt;img" in html
    assert 'href="javascript' not in html.lower() and 'src="javascript' not in html.lower()
    assert 'href="data:' not in html
    assert '<a href="https://example.com/help">safe</a>' in html
    assert "<strong>bold</strong>" in html and "<h1>Title</h1>" in html


def test_the_article_page_shows_a_hostile_article_harmlessly(client):
    ArticleFactory(slug="hostile", body_en=HOSTILE)
    body = client.get(reverse("help:article", args=["hostile"])).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert 'href="javascript' not in body.lower()
    assert '<a href="https://example.com/help">safe</a>' in body
