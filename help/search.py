"""Searching the help centre and the list of eSIM phones."""

import re

from django.db.models import Q, QuerySet

from help.models import Article, Device, chinese

MAX_QUERY = 100
MAX_RESULTS = 50
# Runs of Chinese characters, of letters or of digits: "苹果15" and "iPhone15" are two words each.
_WORDS = re.compile(r"[\u3400-\u9fff]+|[^\W\d_\u3400-\u9fff]+|\d+")


def words_of(query: str) -> list[str]:
    """The words of a visitor's query (at most ``MAX_QUERY`` characters are read)."""
    return _WORDS.findall((query or "")[:MAX_QUERY])[:8]


def search_articles(query: str) -> QuerySet[Article]:
    """Published articles with every word of ``query`` in their title or text, in the visitor's
    language; none for an empty query."""
    words = words_of(query)
    if not words:
        return Article.objects.none()
    title, body = ("title_zh", "body_zh") if chinese() else ("title_en", "body_en")
    articles = Article.objects.published()
    for word in words:
        articles = articles.filter(
            Q(**{f"{title}__icontains": word}) | Q(**{f"{body}__icontains": word})
        )
    return articles[:MAX_RESULTS]


def find_devices(query: str) -> QuerySet[Device]:
    """Phones whose brand, model or other names hold every word of ``query``; none for an empty
    query."""
    words = words_of(query)
    if not words:
        return Device.objects.none()
    devices = Device.objects.all()
    for word in words:
        devices = devices.filter(
            Q(brand__icontains=word) | Q(model__icontains=word) | Q(aliases__icontains=word)
        )
    return devices[:MAX_RESULTS]
