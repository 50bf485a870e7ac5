"""Admin searches over orders and SIMs that each go through an index, not a scan of every row.

Django's default search ORs one condition per search field across joins, which PostgreSQL can
only answer by reading the whole table. Here the related rows are looked up first (by ICCID or
email, both indexed) and the list is filtered on indexed columns of its own table.
"""

import re

from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.models import User
from core.validators import normalize_pakistani_mobile
from orders.models import Sim

ICCID = re.compile(r"^89\d{16,20}$")
MSISDN = re.compile(r"^\+\d{8,15}$")
NATIONAL = re.compile(r"^03\d{2}[ -]?\d{7}$")  # 0300 1234567, as the admin shows numbers


def as_e164(term: str) -> str:
    """A number typed as the admin shows it (``0300 1234567``) in its stored form, else ``term``."""
    if not NATIONAL.match(term):
        return term
    try:
        return normalize_pakistani_mobile(term)
    except ValidationError:
        return term


def user_ids(email: str) -> list[int]:
    """The users with this email address, whatever its case."""
    return list(User.objects.filter(email__iexact=email).values_list("pk", flat=True))


def search_orders(queryset, term: str):
    """Orders whose number, customer email, SIM ICCID (issued or renewed) or recharge number
    is ``term``, case-insensitive."""
    found = Q(number__in={term, term.upper()}) | Q(recharge_msisdn=as_e164(term))
    if ICCID.match(term):
        sims = Sim.objects.filter(iccid=term).values_list("pk", "issued_by_order_id")
        for sim, issued_by in sims:
            found |= Q(sim=sim) | Q(pk=issued_by)
    if "@" in term:
        found |= Q(customer__in=user_ids(term))
    return queryset.filter(found)


def search_sims(queryset, term: str):
    """SIMs with this whole ICCID, phone number or owner email, through their indexes; ``None``
    for any other term (the admin's default search then matches parts of them)."""
    if ICCID.match(term):
        return queryset.filter(iccid=term)
    term = as_e164(term)
    if MSISDN.match(term):
        return queryset.filter(msisdn=term)
    if "@" in term and " " not in term:
        return queryset.filter(owner__in=user_ids(term))
    return None
