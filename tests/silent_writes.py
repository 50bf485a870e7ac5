"""Finding writes that send no model signal (``QuerySet.update()`` and the bulk writes) in the
portal's own code, for the caches that signals keep in step."""

import ast
from pathlib import Path

from django.conf import settings

from tests.apps import PROJECT_APPS

APP_DIRS = PROJECT_APPS
SILENT_WRITES = {"update", "bulk_create", "bulk_update"}


def silent_writes(source: str, names: set[str], excused_by: str) -> list[int]:
    """Lines of ``source`` writing through a receiver named in ``names`` without signals, unless
    the source calls ``excused_by`` (what keeps the cache in step by hand)."""
    if excused_by in source:
        return []
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SILENT_WRITES:
            continue
        seen, receiver = set(), node.func.value
        while isinstance(receiver, ast.Attribute | ast.Call):
            receiver = receiver.func if isinstance(receiver, ast.Call) else receiver
            if isinstance(receiver, ast.Attribute):
                seen.add(receiver.attr)
                receiver = receiver.value
        if isinstance(receiver, ast.Name):
            seen.add(receiver.id)
        if seen & names:
            lines.append(node.lineno)
    return lines


def app_sources():
    """``(path, source)`` of every module of the portal's apps but their migrations."""
    for app in APP_DIRS:
        for path in sorted((Path(settings.BASE_DIR) / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.read_text()
