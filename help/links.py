"""Links to help articles from other pages: to the article only while it is published."""

from urllib.parse import urlencode

from django.urls import reverse

from help.models import Article

NO_DATA = "no-data-after-installing"
PAYMENT_FAILED = "payment-failed"


def article_url(slug: str, **params: str) -> str:
    """The address of the published article ``slug`` (with ``params`` as its query), else ""."""
    if not Article.objects.published().filter(slug=slug).exists():
        return ""
    url = reverse("help:article", args=[slug])
    query = urlencode({name: value for name, value in params.items() if value})
    return f"{url}?{query}" if query else url
