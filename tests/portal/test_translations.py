"""Simplified Chinese is complete: no missing or fuzzy entry, and the compiled catalog matches."""

import polib
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.processes import ROOT

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
