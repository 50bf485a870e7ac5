"""Traditional Chinese is complete, has no Simplified left, uses the reviewed product terms and
is what scripts/translate makes from the Simplified catalogue today."""

import json
import subprocess
import sys

import polib

from core.chinese import TABLES
from tests.chinese import simplified_left
from tests.processes import ROOT

HANS = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
HANT = TABLES / "LC_MESSAGES/django.po"


def texts(entry: polib.POEntry) -> list[str]:
    return [entry.msgstr, *entry.msgstr_plural.values()]


def test_every_zh_hant_entry_is_translated_and_not_fuzzy():
    catalog = polib.pofile(str(HANT))
    simplified = {e.msgid for e in polib.pofile(str(HANS)) if not e.obsolete}
    assert {e.msgid for e in catalog if not e.obsolete} == simplified
    assert [e.msgid for e in catalog if not e.obsolete and not any(texts(e))] == []
    assert [e.msgid for e in catalog if e.fuzzy] == [] and not catalog.metadata_is_fuzzy


def test_no_simplified_character_is_left():
    left = {
        e.msgid: "".join(sorted(simplified_left(" ".join(texts(e)))))
        for e in polib.pofile(str(HANT))
    }
    assert {msgid: chars for msgid, chars in left.items() if chars} == {}


def test_compiled_catalog_matches_the_source():
    source = {e.msgid: e.msgstr for e in polib.pofile(str(HANT)) if e.msgid}
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(HANT.with_suffix(".mo")))}
    compiled.pop("", None)
    assert compiled == source


def test_the_product_terms_are_the_reviewed_ones():
    catalog = {e.msgid: e.msgstr for e in polib.pofile(str(HANT))}
    assert catalog["Plan"] == "方案"
    assert catalog["Recharge"] == "儲值"
    assert catalog["Replacement"] == "補卡"
    assert catalog["Activation code"] == "啟用碼"
    assert catalog["A paid order is refunded, not cancelled."].startswith("已支付的訂單只能")
    assert "錢包" in catalog["Partner wallet"] and "夥伴" in catalog["Partner wallet"]
    terms = json.loads((TABLES / "terms.json").read_text(encoding="utf-8"))
    assert all(not simplified_left(value) for value in terms.values())


def test_the_committed_catalogue_is_the_conversion_of_the_simplified_one(tmp_path):
    """A string added to zh_Hans and not carried over (scripts/translate not run) fails here."""
    script = f"""
import sys, scripts.zh_hant_catalog as build
from pathlib import Path
build.TARGET = Path({str(tmp_path / "django.po")!r})
build.CHARACTERS = Path({str(tmp_path / "characters.json")!r})
build.main()
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    fresh = {e.msgid: texts(e) for e in polib.pofile(str(tmp_path / "django.po"))}
    assert fresh == {e.msgid: texts(e) for e in polib.pofile(str(HANT))}
    assert (tmp_path / "characters.json").read_text() == (TABLES / "characters.json").read_text()
