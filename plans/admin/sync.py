"""The provider's "Sync catalog" admin page: preview what the upstream changes, then apply it.

The apply button posts back the preview's fingerprint, so what is applied is what staff saw.
"""

from dataclasses import asdict
from functools import partial
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from plans.models import Period, PlanKind
from plans.services import catalog_sync
from plans.services.catalog_sync import shown

SYNC_PERMISSION = "plans.change_plan"
FIELD_LABELS = {
    "cost": gettext_lazy("Cost"),
    "cost_currency": gettext_lazy("Cost currency"),
    "data_mb": gettext_lazy("Data (MB)"),
    "data_unlimited": gettext_lazy("Unlimited data"),
    "validity_days": gettext_lazy("Validity (days)"),
    "minutes": gettext_lazy("Minutes"),
    "sms": gettext_lazy("SMS"),
    "airtime_amount": gettext_lazy("Airtime"),
    "period": gettext_lazy("Period"),
}


def sync_catalog_urls(model_admin) -> list:
    """The URL of the sync page, for ``ProviderAdmin.get_urls``."""
    view = model_admin.admin_site.admin_view(partial(sync_catalog_view, model_admin))
    return [path("<path:object_id>/sync-catalog/", view, name="plans_provider_sync_catalog")]


@admin.action(description=gettext_lazy("Sync catalog"), permissions=["sync_catalog"])
def sync_catalog(model_admin, request, queryset):
    """Open the sync page of the one provider selected."""
    if queryset.count() != 1:
        model_admin.message_user(request, _("Choose one provider to sync."), messages.WARNING)
        return None
    return redirect("admin:plans_provider_sync_catalog", queryset.get().pk)


def sync_catalog_view(model_admin, request, object_id):
    """GET: the preview. POST: apply it if it is still what the upstream sells."""
    if not request.user.has_perm(SYNC_PERMISSION):
        raise PermissionDenied
    provider = model_admin.get_object(request, object_id)
    if provider is None:
        raise Http404
    if request.method == "POST":
        try:
            result = catalog_sync.apply(
                provider=provider,
                actor=request.user,
                fingerprint=request.POST.get("fingerprint", ""),
            )
        except catalog_sync.StaleSyncPlan as exc:
            messages.warning(request, exc.message)
            return redirect("admin:plans_provider_sync_catalog", provider.pk)
        except catalog_sync.CatalogSyncError as exc:
            return _render(model_admin, request, provider, error=exc.message)
        messages.success(
            request,
            _(
                "Catalog synced: %(created)d created (inactive until priced), %(updated)d "
                "updated, %(reactivated)d reactivated, %(deactivated)d deactivated."
            )
            % asdict(result),
        )
        query = urlencode({"provider__id__exact": provider.pk})
        return HttpResponseRedirect(f"{reverse('admin:plans_plan_changelist')}?{query}")
    try:
        sync_plan = catalog_sync.preview(provider=provider)
    except catalog_sync.CatalogSyncError as exc:
        return _render(model_admin, request, provider, error=exc.message)
    return _render(model_admin, request, provider, sync_plan=sync_plan)


def _render(model_admin, request, provider, *, sync_plan=None, error=""):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Sync the catalog of %(provider)s") % {"provider": provider},
        "original": provider,
        "error": error,
        "sync_plan": sync_plan,
    }
    if sync_plan is not None:
        context.update(
            new=[_new_row(new) for new in sync_plan.new],
            changed=[_changed_row(change) for change in sync_plan.changed],
        )
    return TemplateResponse(request, "admin/plans/provider/sync_catalog.html", context)


def _new_row(new: catalog_sync.NewPlan) -> dict:
    item = new.item
    if item.data_unlimited:
        data = _("unlimited")
    else:
        data = _("%(mb)s MB") % {"mb": item.data_mb} if item.data_mb else "—"
    return {
        "item": item,
        "operator": new.operator,
        "kind": PlanKind(item.kind).label,
        "cost": f"{item.cost_currency} {shown(item.cost)}",
        "period": Period(catalog_sync.period_for(item.validity_days)).label,
        "data": data,
    }


def _changed_row(change: catalog_sync.PlanChange) -> dict:
    fields = [
        (FIELD_LABELS.get(name, name), _shown_field(name, ours), _shown_field(name, theirs))
        for name, (ours, theirs) in change.fields.items()
    ]
    return {"plan": change.plan, "fields": fields, "reactivate": change.reactivate}


def _shown_field(name: str, value) -> str:
    return Period(value).label if name == "period" and value else shown(value)
