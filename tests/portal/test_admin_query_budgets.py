"""Every admin list keeps a fixed number of queries as rows are added, under a ceiling; big
tables are paged without exact counts, filtered without reading every row, and edited
without a select listing every customer, SIM or order."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.admin import AllValuesFieldListFilter, RelatedFieldListFilter
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget
from django.db import connection
from django.forms import ModelChoiceField
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from core.admin.paging import EstimatedCountPaginator
from core.models import AuditEntry
from orders.models import (
    Notification,
    Order,
    Payment,
    ProvisioningAttempt,
    Sim,
    WalletEntry,
    WebhookDelivery,
    WebhookEvent,
)
from plans.models import ProviderCall
from tests.factories import CustomerFactory, OrderFactory, SimFactory
from tests.portal.admin_rows import ROW_MAKERS, add_rows

MAX_QUERIES = 15
MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
BIG_TABLES = {
    AuditEntry,
    EmailAddress,
    Notification,
    Order,
    Payment,
    ProviderCall,
    ProvisioningAttempt,
    Sim,
    User,
    WalletEntry,
    WebhookDelivery,
    WebhookEvent,
}
LIST_WIDGETS = (ForeignKeyRawIdWidget, AutocompleteSelect)


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def queries_of(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in ctx.captured_queries]


def test_every_admin_list_has_rows_for_its_budget():
    assert set(MODELS) - set(ROW_MAKERS) == set()


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_changelist_queries_do_not_grow_with_rows(client, signed_in_superuser, model):
    url = changelist_url(model)
    add_rows(model, 2)
    client.get(url)  # per-process caches (content types, permissions) fill on the first page
    few = queries_of(client, url)
    add_rows(model, 5)
    more = queries_of(client, url)
    assert len(more) == len(few), "\n".join(more)
    assert len(few) <= MAX_QUERIES, "\n".join(few)


@pytest.mark.parametrize("model", sorted(BIG_TABLES, key=lambda m: m._meta.label))
def test_big_tables_are_paged_without_exact_counts(model):
    model_admin = admin.site._registry[model]
    assert model_admin.paginator is EstimatedCountPaginator
    assert not model_admin.show_full_result_count
    assert model_admin.show_facets == admin.ShowFacets.NEVER
    assert model_admin.date_hierarchy is None  # its year list is a DISTINCT over every row


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_no_list_filter_reads_every_row_of_a_big_table(signed_in_superuser, model):
    request = RequestFactory().get(changelist_url(model))
    request.user = signed_in_superuser
    changelist = admin.site._registry[model].get_changelist_instance(request)
    for spec in changelist.filter_specs:
        if isinstance(spec, RelatedFieldListFilter):
            assert spec.field.related_model not in BIG_TABLES, spec.field_path
        if type(spec) is AllValuesFieldListFilter:
            assert model not in BIG_TABLES, spec.field_path


def _forms(model_admin, request):
    if model_admin.has_add_permission(request):
        yield model_admin.get_form(request, None, change=False)
    yield model_admin.get_form(request, None, change=True)
    for inline in model_admin.get_inline_instances(request):
        yield inline.get_formset(request).form


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_forms_pick_big_table_rows_by_id_not_from_a_select(signed_in_superuser, model):
    request = RequestFactory().get("/")
    request.user = signed_in_superuser
    for form in _forms(admin.site._registry[model], request):
        for name, field in form.base_fields.items():
            if isinstance(field, ModelChoiceField) and field.queryset.model in BIG_TABLES:
                widget = getattr(field.widget, "widget", field.widget)
                assert isinstance(widget, LIST_WIDGETS), f"{form.__name__}.{name}"


@pytest.mark.parametrize("factory", [OrderFactory, SimFactory])
def test_order_and_sim_pages_list_no_other_customers(client, signed_in_superuser, factory):
    shown = factory()
    others = [CustomerFactory().email for _ in range(3)]
    url = reverse(f"admin:orders_{shown._meta.model_name}_change", args=[shown.pk])
    body = client.get(url).content.decode()
    assert not [email for email in others if email in body]
