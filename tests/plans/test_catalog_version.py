"""Catalog rows are written so that the catalog version follows: ``QuerySet.update()`` and the
bulk writes send no signal, so app code using them on catalog models must call ``bump()``."""

from plans.services.catalog_version import CATALOG_MODELS
from tests.silent_writes import app_sources, silent_writes

MODEL_NAMES = {model.__name__ for model in CATALOG_MODELS}
RELATED_NAMES = {"prices", "plans"}


def silent_catalog_writes(source: str) -> list[int]:
    """Lines of ``source`` writing catalog rows without signals, unless it bumps the version."""
    return silent_writes(source, MODEL_NAMES | RELATED_NAMES, "catalog_version.bump(")


def test_app_code_writes_catalog_rows_with_signals_or_bumps_the_version():
    found = [
        f"{path}:{line}" for path, source in app_sources() for line in silent_catalog_writes(source)
    ]
    assert not found, "call plans.services.catalog_version.bump() after these writes"


def test_the_check_catches_silent_writes():
    assert silent_catalog_writes("Plan.objects.filter(pk=1).update(is_active=False)") == [1]
    assert silent_catalog_writes("plan.prices.filter(currency='PKR').update(amount=1)") == [1]
    assert silent_catalog_writes("PlanPrice.objects.bulk_create(rows)") == [1]
    assert silent_catalog_writes("Order.objects.filter(pk=1).update(status='x')") == []
    bumped = "Plan.objects.update(ordering=0)\ncatalog_version.bump()"
    assert silent_catalog_writes(bumped) == []
