"""The help centre's pages: articles by group, search, one article, and the phone checker."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from help.markdown import render_markdown
from help.models import Article
from help.search import MAX_QUERY, find_devices, search_articles
from help.services import record_feedback
from plans.models import Operator

VOTES_KEY = "help_votes"
ANSWERS = {"yes": True, "no": False}


def _query(request) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY]


@require_GET
def index(request):
    """Published articles by group, or the articles matching the search ``q``."""
    query = _query(request)
    if query:
        context = {"query": query, "results": list(search_articles(query))}
        return render(request, "help/search.html", context)
    articles = Article.objects.published().only("slug", "group", "title_zh", "title_en")
    by_group = {group: [] for group in Article.Group}
    for article in articles:
        by_group[article.group].append(article)
    groups = [(group.label, items) for group, items in by_group.items() if items]
    return render(request, "help/index.html", {"groups": groups})


def _visible_article(request, slug: str) -> Article:
    """A published article; staff also see unpublished ones, to check them before publishing."""
    articles = Article.objects.all() if request.user.is_staff else Article.objects.published()
    return get_object_or_404(articles, slug=slug)


@require_GET
def article(request, slug: str):
    """One article in the visitor's language, "did this help?" and where to ask for more."""
    item = _visible_article(request, slug)
    context = {
        "article": item,
        "body": render_markdown(item.body),
        "voted": slug in request.session.get(VOTES_KEY, []),
        "group": Article.Group(item.group).label,
    }
    if item.shows_apns:
        context["operators"] = list(Operator.objects.exclude(apn="").only("code", "name", "apn"))
        context["chosen_operator"] = request.GET.get("operator", "")
    return render(request, "help/article.html", context)


@require_POST
def feedback(request, slug: str):
    """Count the visitor's answer to "did this help?", once per article and visit."""
    item = get_object_or_404(Article.objects.published(), slug=slug)
    answer = request.POST.get("helpful", "")
    votes = request.session.get(VOTES_KEY, [])
    if answer not in ANSWERS:
        messages.error(request, _("Please answer yes or no."))
    elif slug not in votes:
        record_feedback(article=item, helpful=ANSWERS[answer])
        request.session[VOTES_KEY] = [*votes, slug][-100:]
        messages.success(request, _("Thank you for your answer."))
    return redirect("help:article", slug=slug)


@require_GET
def devices(request):
    """Is my phone compatible? Phones matching ``q``, with the regions where they lack eSIM."""
    query = _query(request)
    results = list(find_devices(query)) if query else []
    return render(request, "help/devices.html", {"query": query, "results": results})
