"""The site's clock in tests.

Pages show times in the site's zone (Asia/Karachi, UTC+5), so between 19:00 and 24:00 UTC a page
already shows tomorrow's date. Compare a page with ``site_date`` (never ``dt.date()`` or
``dt.strftime`` on a UTC value); date-heavy modules run under ``evening_before_new_year`` (see
tests/conftest.py), so a mix-up fails on every run, not only in the evening. Every other test
starts at ``LAST_DAY_LATE_EVENING`` (the clock ticking) unless marked ``real_clock``.
"""

from datetime import UTC, datetime

from django.utils import timezone

# 31 December, 21:30 UTC: already 1 January, 02:30 in Karachi. Every date differs in the two zones:
# the day, the month and the year.
EVENING_BEFORE_NEW_YEAR = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)

# 31 August, 18:30 UTC: 23:30 in Karachi on a month's last day. Half an hour from now the site's
# date is tomorrow, in another month; a month from now is 30 September.
LAST_DAY_LATE_EVENING = datetime(2026, 8, 31, 18, 30, tzinfo=UTC)


def site_date(moment: datetime, fmt: str = "%Y-%m-%d") -> str:
    """``moment`` as the site shows it: in the site's time zone, formatted with ``fmt``."""
    return timezone.localtime(moment).strftime(fmt)
