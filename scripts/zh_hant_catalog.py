"""Write the Traditional Chinese catalogue (locale/zh_Hant) from the Simplified one.

Every entry of locale/zh_Hans/LC_MESSAGES/django.po is converted with OpenCC's ``s2twp``
(Taiwan wording), the product's own terms taken from locale/zh_Hant/terms.json. Also writes
locale/zh_Hant/characters.json, the character table ``core.chinese`` converts database text
with. Run by scripts/translate after the Simplified catalogue; then ``manage.py compilemessages``.
"""

import json
import sys
from pathlib import Path

import opencc
import polib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.chinese import TABLES, convert  # noqa: E402

SOURCE = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
TARGET = TABLES / "LC_MESSAGES/django.po"
CHARACTERS = TABLES / "characters.json"
# CJK Unified Ideographs: every Simplified character there is has its code point in this block.
CJK = range(0x4E00, 0xA000)


def character_table(converter: opencc.OpenCC) -> dict[str, str]:
    """Each character OpenCC changes on its own, with its Traditional form."""
    table = {}
    for code in CJK:
        simplified = chr(code)
        traditional = converter.convert(simplified)
        if traditional != simplified and len(traditional) == 1:
            table[simplified] = traditional
    return table


def main() -> None:
    converter = opencc.OpenCC("s2twp")
    CHARACTERS.write_text(
        json.dumps(character_table(converter), ensure_ascii=False, indent=0, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    catalog = polib.pofile(str(SOURCE))
    catalog.header = (
        "Traditional Chinese translation of the Pakistan eSIM portal, generated from zh_Hans."
    )
    catalog.metadata.update({"Language": "zh_Hant", "Language-Team": "zh-Hant"})
    for entry in catalog:
        entry.msgstr = convert(entry.msgstr, converter.convert)
        for index, text in entry.msgstr_plural.items():
            entry.msgstr_plural[index] = convert(text, converter.convert)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(TARGET))
    print(f"{len(catalog)} entries converted to Traditional Chinese")


if __name__ == "__main__":
    main()
