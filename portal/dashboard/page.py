"""The staff dashboard on the admin index: figures, charts and links for one request."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import IdentityCheck, Partner
from orders.models import Order, ProvisioningAttempt
from plans.models import ProviderCall
from portal.dashboard.charts import bar_chart, line_chart
from portal.dashboard.figures import Dashboard, build_dashboard
from portal.dashboard.operations import FAILED_ATTEMPTS, FAILED_CALLS

DASHBOARD_PERMISSION = "orders.view_order"


def dashboard_context(request) -> dict:
    """``{"dashboard": …}`` for staff who may view orders, else nothing."""
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        return {}
    dashboard = build_dashboard()
    return {
        "dashboard": dashboard,
        "dashboard_charts": _charts(dashboard),
        "dashboard_links": _links(request, dashboard),
        "dashboard_durations": {
            "p50": format_duration(dashboard.fulfilment.p50),
            "p95": format_duration(dashboard.fulfilment.p95),
            "identity_age": format_duration(dashboard.identity.age),
        },
    }


def format_duration(value: timedelta | None) -> str:
    """``45 s``, ``12 min 5 s``, ``3 h 20 min`` or ``2 d 4 h``; a dash for none."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    return _("%(seconds)d s") % {"seconds": seconds}


def _day_label(day: date) -> str:
    return day.strftime("%m-%d")


def _charts(dashboard: Dashboard) -> dict:
    days = dashboard.sales.days
    labels = [_day_label(day.day) for day in days]
    revenue = []
    for currency in dashboard.sales.currencies:
        revenue.append(
            line_chart(
                _("Net revenue per day, %(currency)s") % {"currency": currency},
                labels,
                [day.net.get(currency, 0) for day in days],
                lambda value, currency=currency: f"{currency} {value:,.2f}",
            )
        )
    orders = bar_chart(_("Paid orders per day"), labels, [day.orders for day in days])
    return {"orders": orders, "revenue": revenue}


def _changelist(request, model, **query) -> str | None:
    """The model's admin list filtered by ``query``, if this user may see it."""
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def _links(request, dashboard: Dashboard) -> dict:
    """Links to the filtered admin lists behind each figure, ``None`` where not permitted."""
    period = dashboard.period
    since = period.days[0].isoformat()
    partner_admin = admin.site._registry[Partner]
    can_see_partners = partner_admin.has_view_permission(request)

    def partner_url(pk: int) -> str | None:
        return reverse("admin:accounts_partner_change", args=[pk]) if can_see_partners else None

    def failures(model, provider_id: int, outcomes: list[str]) -> str | None:
        return _changelist(
            request,
            model,
            provider__id__exact=provider_id,
            outcome__in=",".join(outcomes),
            started_at__date__gte=since,
        )

    return {
        "paid_today": _changelist(request, Order, paid_at__date=period.today.isoformat()),
        "paid_week": _changelist(request, Order, paid_at__date__gte=since),
        "delivered_week": _changelist(
            request, Order, paid_at__date__gte=since, fulfilled_at__isnull="0"
        ),
        "fulfilled_week": _changelist(request, Order, fulfilled_at__date__gte=since),
        "identity_queue": _changelist(
            request, IdentityCheck, status__exact=IdentityCheck.Status.PENDING
        ),
        "partners": _changelist(request, Partner),
        "low_balances": [(row, partner_url(row.partner_id)) for row in dashboard.low_balances],
        "problems": [
            (problem, _changelist(request, Order, problem=problem.key))
            for problem in dashboard.problems
        ],
        "providers": [
            (
                item,
                failures(ProvisioningAttempt, item.provider_id, FAILED_ATTEMPTS),
                failures(ProviderCall, item.provider_id, FAILED_CALLS),
            )
            for item in dashboard.providers
        ],
    }
