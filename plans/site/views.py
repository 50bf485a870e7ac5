"""The customer catalog: browse and filter eSIM plans, see one plan and buy it."""

import hashlib
import logging
from decimal import Decimal

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.cache import CACHE_ERRORS
from core.currency import current_currency
from core.money import Currency, quantize
from plans.models import Plan, PlanKind
from plans.services import catalog_version
from plans.site.filters import MB_PER_GB, PlanFilter
from plans.site.forms import BuyForm

PLANS_PER_PAGE = 24
SECTION_PREFIX = "catalog:site:"
SECTION_TTL_SECONDS = 10 * 60
CATALOG_PARAMETERS = sorted([*PlanFilter.base_filters, "page", "currency"])
logger = logging.getLogger(__name__)


def data_label(plan: Plan) -> str:
    """The plan's data as a customer reads it: "10 GB", "500 MB", "Unlimited" or ""."""
    if plan.data_unlimited:
        return _("Unlimited")
    if not plan.data_mb:
        return ""
    if plan.data_mb < MB_PER_GB:
        return f"{plan.data_mb} MB"
    gigabytes = (Decimal(plan.data_mb) / MB_PER_GB).quantize(Decimal("0.1")).normalize()
    return f"{gigabytes:f} GB"


def plan_list(request):
    """Active eSIM plans priced in the current currency, filtered by the GET form.

    The page's catalog section (filters, cards, pages) is the same for every shopper with the
    same catalog version, currency, language and catalog parameters, so it is rendered once per
    such key and served from the cache after; nothing in it is the shopper's own.
    """
    currency = current_currency(request)
    query = catalog_query(request)
    version = catalog_version.current()
    key = version and _section_key(query, version, currency)
    section = key and _cache_get(key)
    context = {}
    if section is None:
        context = catalog_context(query, currency)
        section = render_to_string("plans/plan_list_catalog.html", context)
        if key:
            _cache_set(key, section)
    # The section is this template's own output, escaped when it was rendered.
    context["catalog"] = mark_safe(section)
    return render(request, "plans/plan_list.html", context)


def catalog_query(request) -> QueryDict:
    """The request's catalog parameters (filters, page, currency) in one order. Any other
    parameter changes nothing the section shows: it neither makes a section of its own in the
    cache nor follows the page's links."""
    query = QueryDict(mutable=True)
    for name in CATALOG_PARAMETERS:
        if name in request.GET:
            query.setlist(name, request.GET.getlist(name))
    return query


def catalog_context(query: QueryDict, currency: str) -> dict:
    """The filters and one page of plans (``query``: ``catalog_query``), priced in ``currency``."""
    filterset = PlanFilter(query, currency=currency)
    page = Paginator(filterset.qs, PLANS_PER_PAGE).get_page(query.get("page"))
    for plan in page:
        plan.data_label = data_label(plan)
        plan.price = quantize(plan.price, currency)
    return {
        "filter": filterset,
        "form": filterset.form,
        "page": page,
        "currency": currency,
        "currencies": Currency.values,
        "query": query,
    }


def _section_key(query: QueryDict, version: str, currency: str) -> str:
    parts = (version, currency, get_language() or "", query.urlencode())
    return SECTION_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cache_get(key: str):
    try:
        return cache.get(key)
    except CACHE_ERRORS as error:
        logger.warning("Catalog section not read, the cache does not answer: %r", error)
        return None


def _cache_set(key: str, section: str) -> None:
    try:
        cache.set(key, section, SECTION_TTL_SECONDS)
    except CACHE_ERRORS as error:
        logger.warning("Catalog section not stored, the cache does not answer: %r", error)


def plan_detail(request, pk: int):
    """One plan with its details and the buy form."""
    plan = get_object_or_404(
        Plan.objects.select_related("operator")
        .filter(kind=PlanKind.ESIM, is_active=True)
        .supplied(),
        pk=pk,
    )
    prices = plan_prices(plan)
    form = BuyForm(prices=prices, currency=current_currency(request))
    return render_plan_page(request, plan, form, prices)


def plan_prices(plan: Plan) -> list:
    """The plan's prices, rounded to each currency's minor unit; 404 when it has none."""
    prices = list(plan.prices.all())
    if not prices:
        raise Http404
    for price in prices:
        price.amount = quantize(price.amount, price.currency)
    return prices


def render_plan_page(request, plan: Plan, form: BuyForm, prices: list, status: int = 200):
    """The plan page; the checkout re-renders it with the buy form's errors."""
    currency = form["currency"].value()
    shown = next((price for price in prices if price.currency == currency), prices[0])
    plan.data_label = data_label(plan)
    others = [price for price in prices if price is not shown]
    context = {"plan": plan, "form": form, "price": shown, "other_prices": others}
    if not request.user.is_authenticated:
        here = reverse("plans:detail", args=[plan.pk])
        context["login_url"] = redirect_to_login(here).url
        context["signup_url"] = reverse("account_signup") + "?" + urlencode({"next": here})
    return render(request, "plans/plan_detail.html", context, status=status)
