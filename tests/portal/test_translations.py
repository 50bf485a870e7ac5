"""Simplified Chinese is complete: no missing or fuzzy entry, and the compiled catalog matches."""

import shutil
import subprocess
import sys

import polib
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.apps import PROJECT_APPS
from tests.processes import ROOT, clean_env

PO_FILE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_zh_hans_entry_is_translated_and_not_fuzzy():
    catalog = polib.pofile(str(PO_FILE))
    untranslated = [e.msgid for e in catalog if not e.obsolete and not e.msgstr]
    fuzzy = [e.msgid for e in catalog if "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == [] and not catalog.metadata_is_fuzzy


def test_compiled_catalog_matches_the_source():
    source = {e.msgid: e.msgstr for e in polib.pofile(str(PO_FILE)) if e.msgid}
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(PO_FILE.with_suffix(".mo")))}
    compiled.pop("", None)
    assert compiled == source


def test_templates_render_in_chinese(client, db):
    response = client.get(reverse("home"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "巴基斯坦手机流量" in body and "Mobile data for Pakistan" not in body


@override_settings(LANGUAGE_CODE="en")
def test_model_labels_are_translated():
    with translation.override("zh-hans"):
        from orders.models import Order

        assert str(Order.Status.AWAITING_PAYMENT.label) == "待支付"


@pytest.mark.slow
def test_catalog_holds_every_string_in_the_code(tmp_path):
    """Collecting strings afresh finds none the committed catalog lacks (see scripts/translate)."""
    for name in (*PROJECT_APPS, "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "-v", "0"],
        cwd=tmp_path,
        env=clean_env(tmp_path / "var"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"))
    committed = {e.msgid for e in polib.pofile(str(PO_FILE)) if not e.obsolete}
    missing = sorted({e.msgid for e in fresh if not e.obsolete} - committed)
    assert missing == []
