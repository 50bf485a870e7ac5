"""The shopper's display and payment currency, kept in the session."""

from core.chinese import is_chinese
from core.money import Currency

SESSION_KEY = "currency"


def current_currency(request) -> str:
    """The currency chosen with ``?currency=`` (remembered), else CNY for Chinese, else PKR."""
    chosen = request.GET.get("currency", "").upper()
    if chosen in Currency.values:
        request.session[SESSION_KEY] = chosen
        return chosen
    remembered = request.session.get(SESSION_KEY)
    if remembered in Currency.values:
        return remembered
    return Currency.CNY if is_chinese() else Currency.PKR
