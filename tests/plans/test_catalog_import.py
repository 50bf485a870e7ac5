"""Catalog import and export through the admin: preview, confirm, errors, audit, round trip."""

import csv
import io
from decimal import Decimal

import pytest
import tablib
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import ADMINISTRATORS, CATALOG_MANAGERS, SUPPORT, sync_staff_roles
from core.models import AuditEntry
from core.money import Currency
from plans.admin.importing import PlanResource
from plans.models import Operator, Plan, PlanPrice
from tests.factories import (
    OperatorFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
    UserFactory,
)
from tests.staff import login_staff

IMPORT_URL = reverse("admin:plans_plan_import")
CONFIRM_URL = reverse("admin:plans_plan_process_import")
EXPORT_URL = reverse("admin:plans_plan_export")
CHANGELIST = reverse("admin:plans_plan_changelist")
CSV_FORMAT, XLSX_FORMAT = "0", "1"
COLUMNS = PlanResource.columns()


def row(sku="jazz-week-10gb", **values):
    """A complete catalog row as a dict, for a weekly 10 GB Jazz eSIM."""
    base = {
        "operator": "jazz",
        "provider": "Sandbox",
        "provider_sku": sku,
        "kind": "esim",
        "name": "Jazz Weekly 10 GB",
        "name_zh": "Jazz 周包 10GB",
        "data_mb": "10240",
        "data_unlimited": "0",
        "minutes": "100",
        "sms": "",
        "airtime_amount": "",
        "validity_days": "7",
        "period": "weekly",
        "cost": "450",
        "cost_currency": "PKR",
        "is_active": "1",
        "price_pkr": "599",
        "price_usd": "2.99",
        "price_cny": "",
    }
    return base | values


def csv_file(rows, columns=COLUMNS, name="plans.csv"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_file(rows, name="plans.xlsx"):
    dataset = tablib.Dataset(headers=COLUMNS)
    for values in rows:
        dataset.append([values[column] for column in COLUMNS])
    return SimpleUploadedFile(name, dataset.export("xlsx"))


def preview(client, upload, file_format=CSV_FORMAT):
    return client.post(IMPORT_URL, {"format": file_format, "import_file": upload})


def confirm(client, previewed):
    form = previewed.context["confirm_form"]
    return client.post(CONFIRM_URL, {name: form.initial[name] for name in form.initial})


def row_errors(response):
    """{row number: {column: [messages]}} from the preview's validation errors."""
    result = response.context["result"]
    return {invalid.number: invalid.field_specific_errors for invalid in result.invalid_rows}


def file_errors(response):
    return response.context["form"].errors.get("import_file", [])


@pytest.fixture
def catalog(db):
    OperatorFactory(code="jazz", name="Jazz")
    OperatorFactory(code="zong", name="Zong")
    return ProviderFactory(name="Sandbox")


def staff_in(client, role):
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[role])
    return login_staff(client, user)


def test_csv_preview_writes_nothing_until_confirmed(client, catalog, catalog_manager):
    response = preview(client, csv_file([row(), row("jazz-day-2gb", name="Jazz Daily 2 GB")]))

    assert response.status_code == 200
    assert response.context["confirm_form"] is not None
    assert [r.import_type for r in response.context["result"].valid_rows()] == ["new", "new"]
    assert "To add: 2; to update: 0; unchanged: 0" in response.content.decode()
    assert not Plan.objects.exists() and not PlanPrice.objects.exists()
    assert not AuditEntry.objects.exists()


def test_confirm_writes_plans_prices_and_audit(client, catalog_manager, catalog):
    previewed = preview(client, csv_file([row(), row("zong-day-2gb", operator="zong")]))
    response = confirm(client, previewed)

    assert response.status_code == 302 and response.url == CHANGELIST
    plan = Plan.objects.get(provider=catalog, provider_sku="jazz-week-10gb")
    assert (plan.name_zh, plan.data_mb, plan.minutes, plan.sms) == (
        "Jazz 周包 10GB",
        10240,
        100,
        None,
    )
    assert plan.cost == Decimal("450") and plan.operator.code == "jazz"
    prices = dict(plan.prices.values_list("currency", "amount"))
    assert prices == {Currency.PKR: Decimal("599"), Currency.USD: Decimal("2.99")}
    entries = AuditEntry.objects.filter(action="catalog_import.plan_added")
    assert entries.count() == 2
    entry = entries.get(target_id=str(plan.pk))
    assert entry.actor == catalog_manager and entry.before == {}
    assert entry.after["provider_sku"] == "jazz-week-10gb" and entry.after["price_pkr"] == "599"
    assert "plans.csv" in entry.note
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["Import finished. Plans added: 2; updated: 0; unchanged: 0."]


def test_update_records_only_what_changed(client, catalog_manager, catalog):
    plan = PlanFactory(provider=catalog, provider_sku="jazz-week-10gb", name="Old name")
    PlanPriceFactory(plan=plan, currency=Currency.PKR, amount=Decimal("550"))
    PlanPriceFactory(plan=plan, currency=Currency.CNY, amount=Decimal("15.99"))

    previewed = preview(client, csv_file([row(name="Jazz Weekly 10 GB")]))
    assert [r.import_type for r in previewed.context["result"].valid_rows()] == ["update"]
    confirm(client, previewed)

    plan.refresh_from_db()
    assert plan.name == "Jazz Weekly 10 GB"
    prices = dict(plan.prices.values_list("currency", "amount"))
    # The empty CNY cell keeps the CNY price; USD is added, PKR updated.
    assert prices == {"PKR": Decimal("599"), "USD": Decimal("2.99"), "CNY": Decimal("15.99")}
    entry = AuditEntry.objects.get(action="catalog_import.plan_changed")
    assert entry.before["name"] == "Old name" and entry.after["name"] == "Jazz Weekly 10 GB"
    assert Decimal(entry.before["price_pkr"]) == 550 and Decimal(entry.after["price_pkr"]) == 599
    assert entry.before["price_usd"] is None and "price_cny" not in entry.after
    assert "cost" not in entry.after  # 450 in the file and in the database


def test_xlsx_preview_and_confirm(client, catalog, catalog_manager):
    rows = [row(), row("jazz-unl", data_mb="", data_unlimited="1")]
    previewed = preview(client, xlsx_file(rows), XLSX_FORMAT)
    assert Plan.objects.count() == 0
    assert previewed.context["confirm_form"] is not None

    confirm(client, previewed)

    assert Plan.objects.get(provider_sku="jazz-unl").data_unlimited is True
    assert PlanPrice.objects.count() == 4
    assert AuditEntry.objects.filter(action="catalog_import.plan_added").count() == 2


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_written(
    client, catalog, catalog_manager
):
    rows = [
        row("ok-1"),
        row("bad-operator", operator="warid"),
        row("bad-cost", cost="-5"),
        row("bad-kind", kind="bundle"),
        row("bad-unlimited", data_unlimited="1", data_mb="2048"),
        row("bad-number", validity_days="a week", price_usd="free"),
        row("ok-1"),
    ]
    response = preview(client, csv_file(rows))

    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    errors = row_errors(response)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7]
    assert "No operator “warid”" in errors[2]["operator"][0]
    assert errors[3] == {"cost": ["The cost cannot be negative."]}
    assert list(errors[4]) == ["kind"]
    assert errors[5] == {
        "data_mb": ["An unlimited plan has no data cap: leave the data (MB) empty."]
    }
    assert set(errors[6]) == {"validity_days", "price_usd"}
    assert errors[7] == {"provider_sku": ["Row 1 has the same provider and SKU."]}
    body = response.content.decode()
    assert "Nothing will be imported until every row passes" in body
    assert not Plan.objects.exists() and not AuditEntry.objects.exists()


def test_confirm_rolls_everything_back_if_a_row_fails_by_then(client, catalog_manager, catalog):
    previewed = preview(client, csv_file([row("first"), row("second", operator="zong")]))
    Operator.objects.filter(code="zong").delete()

    response = confirm(client, previewed)

    assert response.status_code == 302 and response.url == IMPORT_URL
    assert not Plan.objects.exists() and not AuditEntry.objects.exists()
    [message] = get_messages(response.wsgi_request)
    assert "Nothing was imported" in str(message)


@pytest.mark.parametrize(
    ("upload", "file_format", "message"),
    [
        (SimpleUploadedFile("plans.csv", b""), CSV_FORMAT, "The submitted file is empty."),
        (SimpleUploadedFile("plans.csv", b"  \n"), CSV_FORMAT, "The file is empty."),
        (SimpleUploadedFile("plans.pdf", b"%PDF-1.4"), CSV_FORMAT, "This is not a .csv file"),
        (SimpleUploadedFile("plans.csv", b"a,b\n1,2\n"), XLSX_FORMAT, "This is not a .xlsx file"),
        (SimpleUploadedFile("plans.csv", bytes(range(256)) * 8), CSV_FORMAT, "not UTF-8 text"),
        (SimpleUploadedFile("plans.xlsx", b"PK\x03\x04garbage"), XLSX_FORMAT, "not an Excel"),
        (SimpleUploadedFile("plans.csv", b"name,price\nx,1\n"), CSV_FORMAT, "Missing columns"),
        (SimpleUploadedFile("plans.csv", b"provider,provider_sku\n"), CSV_FORMAT, "no rows"),
        (
            SimpleUploadedFile("plans.csv", b"provider,provider_sku,prize_pkr\nSandbox,x,1\n"),
            CSV_FORMAT,
            "Unknown columns: prize_pkr.",
        ),
        (
            SimpleUploadedFile("plans.csv", b"provider,provider_sku\nSandbox,x,1\n"),
            CSV_FORMAT,
            "more or fewer cells",
        ),
        (
            SimpleUploadedFile("plans.csv", b"provider,provider_sku\n" + b"S,x\n" * 800_000),
            CSV_FORMAT,
            "larger than 2 MB",
        ),
    ],
    ids=[
        "zero-bytes",
        "blank",
        "not-csv",
        "wrong-format",
        "binary",
        "bad-zip",
        "wrong-columns",
        "header-only",
        "unknown-column",
        "ragged",
        "huge",
    ],
)
def test_unusable_files_get_a_form_error(
    client, catalog, catalog_manager, upload, file_format, message
):
    response = preview(client, upload, file_format)

    assert response.status_code == 200
    assert any(message in error for error in file_errors(response)), file_errors(response)
    assert response.context.get("result") is None
    assert not Plan.objects.exists()


def test_too_many_rows_is_a_form_error(client, catalog, catalog_manager, settings, monkeypatch):
    monkeypatch.setattr("plans.importing.upload.MAX_ROWS", 3)
    response = preview(client, csv_file([row(f"sku-{n}") for n in range(4)]))
    assert any("at most 3" in error for error in file_errors(response))


def make_catalog(catalog):
    plans = [
        PlanFactory(provider=catalog, provider_sku="week", name_zh="周包"),
        PlanFactory(provider=catalog, provider_sku="unl", data_mb=None, data_unlimited=True),
        PlanFactory(
            provider=catalog,
            provider_sku="rc-100",
            kind="recharge",
            data_mb=None,
            airtime_amount=Decimal("100"),
            cost=Decimal("97.0000"),
            period="none",
            validity_days=0,
            is_active=False,
        ),
    ]
    PlanPriceFactory(plan=plans[0], currency=Currency.PKR, amount=Decimal("599"))
    PlanPriceFactory(plan=plans[0], currency=Currency.USD, amount=Decimal("2.99"))
    PlanPriceFactory(plan=plans[2], currency=Currency.CNY, amount=Decimal("2.5"))
    return plans


@pytest.mark.parametrize(("file_format", "extension"), [(CSV_FORMAT, "csv"), (XLSX_FORMAT, "xlsx")])
def test_export_imports_back_unchanged(client, catalog_manager, catalog, file_format, extension):
    make_catalog(catalog)

    exported = client.post(
        EXPORT_URL,
        {"format": file_format, "resource": "0"}
        | {f"planresource_{column}": "on" for column in COLUMNS},
    )
    assert exported.status_code == 200
    assert exported["Content-Disposition"].endswith(f'.{extension}"')
    if extension == "csv":
        header = exported.content.decode().splitlines()[0]
        assert header == ",".join(COLUMNS)

    upload = SimpleUploadedFile(f"plans.{extension}", exported.content)
    response = preview(client, upload, file_format)

    result = response.context["result"]
    assert not result.has_validation_errors() and not result.has_errors()
    assert [r.import_type for r in result.valid_rows()] == ["skip", "skip", "skip"]
    confirm(client, response)
    assert not AuditEntry.objects.exists()


def test_support_cannot_import_or_export(client, catalog):
    staff_in(client, SUPPORT)
    assert client.get(IMPORT_URL).status_code == 403
    assert (
        client.post(
            IMPORT_URL, {"format": CSV_FORMAT, "import_file": csv_file([row()])}
        ).status_code
        == 403
    )
    assert client.get(EXPORT_URL).status_code == 403
    assert not Plan.objects.exists()


def test_viewers_may_export_but_not_import(client, catalog):
    user = staff_in(client, SUPPORT)
    user.user_permissions.add(
        *sync_staff_roles()[CATALOG_MANAGERS].permissions.filter(codename="view_plan")
    )
    page = client.get(CHANGELIST).content.decode()
    assert EXPORT_URL in page and IMPORT_URL not in page
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(CONFIRM_URL, {}).status_code == 403


@pytest.mark.parametrize("role", [CATALOG_MANAGERS, ADMINISTRATORS])
def test_import_and_export_buttons_for_catalog_staff(client, catalog, role):
    staff_in(client, role)
    page = client.get(CHANGELIST).content.decode()
    assert IMPORT_URL in page and EXPORT_URL in page
    assert client.get(IMPORT_URL).status_code == 200


def test_confirming_twice_imports_once(client, catalog, catalog_manager):
    previewed = preview(client, csv_file([row()]))
    confirm(client, previewed)

    again = confirm(client, previewed)

    assert again.status_code == 302 and again.url == IMPORT_URL
    assert Plan.objects.count() == 1
    assert AuditEntry.objects.filter(action="catalog_import.plan_added").count() == 1


def test_a_file_with_some_columns_changes_only_those(client, catalog_manager, catalog):
    plan = PlanFactory(provider=catalog, provider_sku="week", name="Weekly", cost=Decimal("450"))
    PlanPriceFactory(plan=plan, currency=Currency.PKR, amount=Decimal("599"))
    upload = csv_file(
        [{"provider": "Sandbox", "provider_sku": "week", "price_usd": "3.49"}],
        columns=["provider", "provider_sku", "price_usd"],
    )

    confirm(client, preview(client, upload))

    plan.refresh_from_db()
    assert (plan.name, plan.cost) == ("Weekly", Decimal("450"))
    assert dict(plan.prices.values_list("currency", "amount")) == {
        "PKR": Decimal("599"),
        "USD": Decimal("3.49"),
    }
    entry = AuditEntry.objects.get(action="catalog_import.plan_changed")
    assert entry.before == {"price_usd": None} and entry.after == {"price_usd": "3.49"}
