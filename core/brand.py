"""The shop's name, from ``settings.PORTAL_BRAND``: one form per language, for every surface."""

from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import get_language


def brand_name(language: str | None = None) -> str:
    """The brand in ``language`` (the active one by default), else in its base language, else
    in English."""
    names = settings.PORTAL_BRAND
    code = (language or get_language() or settings.LANGUAGE_CODE).lower()
    if code in names:
        return names[code]
    base = code.split("-")[0]
    return next((name for key, name in names.items() if key.split("-")[0] == base), names["en"])


#: For values read later in whatever language is active then (the admin's titles).
brand_name_lazy = lazy(brand_name, str)


def bilingual_brand_name(chinese: str = "zh-hans") -> str:
    """Chinese (``chinese``: zh-hans or zh-hant) and English together, for messages in both."""
    return " / ".join(dict.fromkeys([brand_name(chinese), brand_name("en")]))


def sender(
    language: str | None = None, *, bilingual: bool = False, chinese: str = "zh-hans"
) -> str:
    """The ``From`` of the portal's emails: the brand (in ``language``, or in ``chinese`` and
    English) and ``DEFAULT_FROM_EMAIL``'s address."""
    name = bilingual_brand_name(chinese) if bilingual else brand_name(language)
    return str(Address(display_name=name, addr_spec=parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
