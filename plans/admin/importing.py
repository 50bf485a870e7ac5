"""Catalog import and export in the admin: one row per plan, with a retail price per currency.

A row's provider and provider_sku identify its plan: a match updates the plan, otherwise a plan is
added. Every import is previewed first (a dry run that writes nothing) and is all or nothing: while
any row has an error nothing is imported, and the confirmation re-checks the file and rolls back
if any row fails. Each plan added or changed leaves an audit entry naming the staff member. The
rows are written by ``plans.services.catalog_import``; this module only reads and checks them.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ImportForm
from import_export.instance_loaders import ModelInstanceLoader
from import_export.results import RowResult

from plans.importing.upload import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    check_columns,
    normalise_headers,
    read_upload,
)
from plans.importing.widgets import (
    PRICE_COLUMNS,
    LookupWidget,
    MoneyWidget,
    PriceField,
    TextWidget,
    WholeNumberWidget,
    YesNoWidget,
    prices_of,
)
from plans.models import Operator, Plan, Provider
from plans.models.constraints import constraint_errors
from plans.services.catalog_import import audit_state, save_imported_plan

PLAN_COLUMNS = [
    "operator",
    "provider",
    "provider_sku",
    "kind",
    "name",
    "name_zh",
    "data_mb",
    "data_unlimited",
    "minutes",
    "sms",
    "airtime_amount",
    "validity_days",
    "period",
    "cost",
    "cost_currency",
    "is_active",
]
IDENTITY_COLUMNS = ["provider", "provider_sku"]


class PlanLoader(ModelInstanceLoader):
    """Finds each row's plan among the file's plans, read in one query with their prices."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        skus = {self._key(row)[1] for row in (dataset.dict if dataset else [])}
        plans = (
            Plan.objects.filter(provider_sku__in=skus - {None})
            .select_related("operator", "provider")
            .prefetch_related("prices")
        )
        self.plans = {(plan.provider_id, plan.provider_sku): plan for plan in plans}

    def get_instance(self, row):
        provider, sku = self._key(row)
        return self.plans.get((provider, sku)) if provider else None

    def _key(self, row):
        try:
            provider = self.resource.fields["provider"].clean(row)
            sku = self.resource.fields["provider_sku"].clean(row)
        except (KeyError, ValueError):
            return None, None
        return (provider.pk if provider else None), sku


class PlanResource(resources.ModelResource):
    """Plans with their operator (code), provider (name) and retail prices (price_pkr, …)."""

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "CharField": TextWidget,
        "DecimalField": MoneyWidget,
        "BooleanField": YesNoWidget,
        "PositiveIntegerField": WholeNumberWidget,
        "PositiveSmallIntegerField": WholeNumberWidget,
    }

    operator = fields.Field(
        "operator",
        "operator",
        widget=LookupWidget(Operator, "code", gettext_lazy("operator")),
    )
    provider = fields.Field(
        "provider",
        "provider",
        widget=LookupWidget(Provider, "name", gettext_lazy("provider")),
    )

    class Meta:
        model = Plan
        fields = PLAN_COLUMNS
        import_id_fields = IDENTITY_COLUMNS
        instance_loader_class = PlanLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for column, currency in PRICE_COLUMNS.items():
            self.fields[column] = PriceField(currency)
        self._rows_by_plan = {}

    @classmethod
    def columns(cls) -> list[str]:
        """Every column a catalog file may have, in export order."""
        return [*PLAN_COLUMNS, *PRICE_COLUMNS]

    def before_import(self, dataset, **kwargs):
        normalise_headers(dataset)
        self._rows_by_plan = {}

    def after_init_instance(self, instance, new, row, **kwargs):
        prices_of(instance)
        instance._audit_before = {} if new else audit_state(instance)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        key = (instance.provider_id, instance.provider_sku)
        if instance.provider_id and "provider_sku" not in errors:
            first = self._rows_by_plan.setdefault(key, kwargs.get("row_number"))
            if first != kwargs.get("row_number"):
                errors["provider_sku"] = [
                    _("Row %(row)s has the same provider and SKU.") % {"row": first}
                ]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        for field, found in constraint_errors(instance, exclude=set(errors)).items():
            errors.setdefault(field, []).extend(found)
        super().validate_instance(instance, errors, validate_unique)

    def save_instance(self, instance, is_create, row, **kwargs):
        """Each row is written by the catalog import service (its audit entry only on confirm)."""
        self.before_save_instance(instance, row, **kwargs)
        if not self._is_using_transactions(kwargs) and self._is_dry_run(kwargs):
            return  # a preview without a transaction to roll back writes nothing
        save_imported_plan(
            plan=instance,
            is_create=is_create,
            prices=prices_of(instance),
            before=instance._audit_before,
            user=kwargs.get("user"),
            file_name=kwargs.get("file_name") or "",
            audit_entry=not self._is_dry_run(kwargs),
        )
        self.after_save_instance(instance, row, **kwargs)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("operator", "provider").prefetch_related("prices")


def import_help() -> str:
    """What a catalog file holds and how rows are applied (shown on the import page)."""
    return _(
        "One row per plan; the first row names the columns: %(columns)s. A row whose provider "
        "(name) and provider_sku match a plan updates it; any other row adds a plan. Leave a "
        "column out to keep those values. The price columns set the retail price in each "
        "currency; an empty price cell keeps the plan's current price in that currency (a new "
        "plan gets none); to remove a price, use the plan's page. You will see a preview first, "
        "and nothing is imported while any row has an error: fix the file and upload it again. Row "
        "numbers count plans, so row 1 is the line after the column names. CSV (UTF-8) or XLSX, "
        "at most %(megabytes)s MB and %(rows)s rows."
    ) % {
        "columns": ", ".join(PlanResource.columns()),
        "megabytes": MAX_FILE_BYTES // (1024 * 1024),
        "rows": MAX_ROWS,
    }


class CatalogImportForm(ImportForm):
    """The upload step: the file must be a readable CSV or XLSX with the catalog's columns."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.input_formats = formats
        self.fields["import_file"].help_text = import_help()

    def clean(self):
        cleaned_data = super().clean()
        upload, choice = cleaned_data.get("import_file"), cleaned_data.get("format")
        if upload is not None and choice not in (None, ""):
            try:
                dataset = read_upload(upload, self.input_formats[int(choice)]())
                normalise_headers(dataset)
                check_columns(dataset, PlanResource.columns(), IDENTITY_COLUMNS)
            except ValidationError as exc:
                self.add_error("import_file", exc)
        return cleaned_data


class CatalogImportExportMixin(ImportExportMixin):
    """Import and export buttons on the plan list, for staff allowed to edit or view plans."""

    resource_classes = [PlanResource]
    import_form_class = CatalogImportForm
    import_template_name = "admin/plans/plan/import.html"
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]

    def has_import_permission(self, request):
        return request.user.has_perms(
            ["plans.add_plan", "plans.change_plan", "plans.add_planprice", "plans.change_planprice"]
        )

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except FileNotFoundError:  # confirmed twice (the upload is removed once imported)
            messages.error(request, _("This import was already confirmed: upload the file again."))
            return self._back_to_import()

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                _("Nothing was imported: some rows no longer pass the checks. Upload it again."),
            )
            return self._back_to_import()
        return super().process_result(result, request)

    def _back_to_import(self):
        return redirect(reverse("admin:plans_plan_import", current_app=self.admin_site.name))

    def add_success_message(self, result, request):
        totals = result.totals
        messages.success(
            request,
            _("Import finished. Plans added: %(new)s; updated: %(updated)s; unchanged: %(same)s.")
            % {
                "new": totals[RowResult.IMPORT_TYPE_NEW],
                "updated": totals[RowResult.IMPORT_TYPE_UPDATE],
                "same": totals[RowResult.IMPORT_TYPE_SKIP],
            },
        )

    def get_export_filename(self, request, queryset, file_format):
        return f"plans-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"
