"""Catalog rows are written so that the catalog version follows: ``QuerySet.update()`` and the
bulk writes send no signal, so app code using them on catalog models must call ``bump()``."""

import ast
from pathlib import Path

from django.conf import settings

from plans.services.catalog_version import CATALOG_MODELS

APP_DIRS = ["core", "accounts", "plans", "orders", "portal"]
SILENT_WRITES = {"update", "bulk_create", "bulk_update"}
MODEL_NAMES = {model.__name__ for model in CATALOG_MODELS}
RELATED_NAMES = {"prices", "plans"}


def silent_catalog_writes(source: str) -> list[int]:
    """Lines of ``source`` writing catalog rows without signals, unless it bumps the version."""
    if "catalog_version.bump(" in source:
        return []
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SILENT_WRITES:
            continue
        names, receiver = set(), node.func.value
        while isinstance(receiver, ast.Attribute | ast.Call):
            receiver = receiver.func if isinstance(receiver, ast.Call) else receiver
            if isinstance(receiver, ast.Attribute):
                names.add(receiver.attr)
                receiver = receiver.value
        if isinstance(receiver, ast.Name):
            names.add(receiver.id)
        if names & (MODEL_NAMES | RELATED_NAMES):
            lines.append(node.lineno)
    return lines


def test_app_code_writes_catalog_rows_with_signals_or_bumps_the_version():
    found = []
    for app in APP_DIRS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found += [f"{path}:{line}" for line in silent_catalog_writes(path.read_text())]
    assert not found, "call plans.services.catalog_version.bump() after these writes"


def test_the_check_catches_silent_writes():
    assert silent_catalog_writes("Plan.objects.filter(pk=1).update(is_active=False)") == [1]
    assert silent_catalog_writes("plan.prices.filter(currency='PKR').update(amount=1)") == [1]
    assert silent_catalog_writes("PlanPrice.objects.bulk_create(rows)") == [1]
    assert silent_catalog_writes("Order.objects.filter(pk=1).update(status='x')") == []
    bumped = "Plan.objects.update(ordering=0)\ncatalog_version.bump()"
    assert silent_catalog_writes(bumped) == []
