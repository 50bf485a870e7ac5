"""Finding Simplified Chinese left in Traditional text, with OpenCC (a development package)."""

from functools import cache

import opencc

# Characters OpenCC converts on their own but that are also standard Traditional ones, kept by
# its phrase tables where they are right: 上游 (upstream), 批准 (approve), 平台 (platform).
SHARED = frozenset("游准台")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2tw")  # Taiwan's standard forms (群, not 羣), as s2twp writes


def simplified_left(text: str) -> set[str]:
    """The characters of ``text`` OpenCC would still convert to Traditional (the language
    switch's own 简体中文 aside)."""
    convert = _converter().convert
    text = text.replace("简体中文", "")
    return {c for c in set(text) if "\u4e00" <= c <= "\u9fff" and convert(c) != c} - SHARED
