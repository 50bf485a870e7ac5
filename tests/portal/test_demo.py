"""The demo data command: realistic catalog, three logins, and a second run changes nothing."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core import serializers
from django.core.management import call_command

from accounts.services import find_api_key
from orders.models import WalletEntry
from plans.models import Operator, Plan, PlanKind
from portal import demo
from tests.apps import PROJECT_APPS

pytestmark = pytest.mark.django_db


def snapshot() -> str:
    """Every row of every project model, serialized."""
    models = [m for m in apps.get_models() if m._meta.app_label in {*PROJECT_APPS, "auth"}]
    return serializers.serialize("json", [o for m in models for o in m.objects.order_by("pk")])


def test_second_run_changes_nothing(capsys):
    call_command("load_demo")
    first = snapshot()
    assert "created" in capsys.readouterr().out
    call_command("load_demo")
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot() == first


def test_catalog_covers_the_four_operators_with_priced_plans():
    demo.load_demo_data()
    prefixes = {
        op.code: set(op.prefixes.values_list("prefix", flat=True)) for op in Operator.objects.all()
    }
    assert set(prefixes) == {"jazz", "zong", "telenor", "ufone"}
    assert "300" in prefixes["jazz"] and "345" in prefixes["telenor"]
    assert "333" in prefixes["ufone"] and "315" in prefixes["zong"]
    for kind in PlanKind.values:
        assert Plan.objects.filter(kind=kind).exists()
    assert set(Plan.objects.values_list("period", flat=True)) >= {"daily", "weekly", "monthly"}
    for plan in Plan.objects.prefetch_related("prices"):
        assert {p.currency for p in plan.prices.all()} == {"PKR", "CNY", "USD"}
        assert plan.provider.adapter == "sandbox"
    assert not Plan.objects.filter(kind=PlanKind.ESIM, operator__code="ufone").exists()


def test_logins_work(capsys):
    result = demo.load_demo_data()
    customer = authenticate(email=demo.CUSTOMER_EMAIL, password=demo.CUSTOMER_PASSWORD)
    staff = authenticate(email=demo.STAFF_EMAIL, password=demo.STAFF_PASSWORD)
    assert customer is not None and not customer.is_staff
    assert customer.profile.preferred_language == "zh-hans"
    assert staff is not None and staff.is_staff
    assert staff.groups.filter(name="Administrators").exists()
    bearer = result.logins[2].rsplit(" ", 1)[1]
    api_key = find_api_key(bearer)
    assert api_key is not None and api_key.partner.slug == demo.PARTNER_SLUG
    assert WalletEntry.balance_of(api_key.partner) == demo.PARTNER_OPENING_BALANCE


def test_retail_prices_are_rounded_for_each_currency():
    assert demo.retail_prices(Decimal("450")) == {
        "PKR": Decimal("563"),
        "CNY": Decimal("14.99"),
        "USD": Decimal("2.99"),
    }


def test_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(RuntimeError):
        demo.load_demo_data()


def test_demo_logins_sign_in_on_the_site_at_once(client):
    demo.load_demo_data()
    response = client.post(
        "/accounts/login/", {"login": demo.CUSTOMER_EMAIL, "password": demo.CUSTOMER_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/sims/"
