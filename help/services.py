"""Writes of the help centre."""

from django.db.models import F

from help.models import Article


def record_feedback(*, article: Article, helpful: bool) -> None:
    """Count one "did this help?" answer for ``article``."""
    field = "helpful_count" if helpful else "not_helpful_count"
    Article.objects.filter(pk=article.pk).update(**{field: F(field) + 1})
