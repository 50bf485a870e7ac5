"""Simplified → Traditional Chinese for the ``zh-hant`` language.

The interface's strings are converted at build time (``scripts/zh_hant_catalog.py``, OpenCC
``s2twp``). Text that lives in the database (plan names written in Simplified Chinese) is
converted when shown, with the tables that script writes beside the catalogue: the reviewed
product terms (``locale/zh_Hant/terms.json``) first, then character by character.
"""

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

TRADITIONAL = "zh-hant"
SIMPLIFIED = "zh-hans"
TABLES = Path(__file__).resolve().parent.parent / "locale" / "zh_Hant"


@cache
def terms() -> dict[str, str]:
    """The product's own terms, Simplified → the Traditional wording chosen for them."""
    return json.loads((TABLES / "terms.json").read_text(encoding="utf-8"))


@cache
def _terms_pattern() -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(terms(), key=len, reverse=True))))


@cache
def _characters() -> dict[int, str]:
    table = json.loads((TABLES / "characters.json").read_text(encoding="utf-8"))
    return {ord(simplified): traditional for simplified, traditional in table.items()}


def _by_character(text: str) -> str:
    return text.translate(_characters())


def convert(text: str, rest: Callable[[str], str] = _by_character) -> str:
    """``text`` in Traditional Chinese: the product's terms from the table, the ``rest`` (every
    stretch between them) by ``rest``."""
    out, start = [], 0
    for match in _terms_pattern().finditer(text):
        out += [rest(text[start : match.start()]), terms()[match.group()]]
        start = match.end()
    return "".join([*out, rest(text[start:])])


def is_chinese(language: str | None = None) -> bool:
    """Whether ``language`` (the active one by default) is a Chinese one, either script."""
    return (language or get_language() or "").lower().startswith("zh")


def for_language(text: str, language: str | None = None) -> str:
    """Chinese ``text`` written in Simplified, as ``language`` (the active one) should show it."""
    code = (language or get_language() or "").lower()
    return convert(text) if code == TRADITIONAL and text else text
