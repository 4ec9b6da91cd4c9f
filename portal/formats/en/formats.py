"""English, for staff in Italy: 1 December 2026, 2026-12-01, 1,234.50.

Never the US month-first order (12/01/2026 is the first of December to an Italian and
January the twelfth to Django's English): dates are written out, or in ISO 8601.
"""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"  # 1 December 2026
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j F Y, H:i"  # 1 December 2026, 14:30
MONTH_DAY_FORMAT = "j F"  # 1 December
SHORT_DATE_FORMAT = "Y-m-d"  # 2026-12-01
SHORT_DATETIME_FORMAT = "Y-m-d H:i"  # 2026-12-01 14:30
FIRST_DAY_OF_WEEK = 1  # Monday

LONG_DATE_FORMAT = "l j F Y"  # Tuesday 1 December 2026
MEDIUM_DATE_FORMAT = "j M Y"  # 1 Dec 2026
DAY_MONTH_FORMAT = "D j M"  # Tue 1 Dec
WEEKDAY_DATE_FORMAT = "D j M Y"  # Tue 1 Dec 2026
SECONDS_DATETIME_FORMAT = "Y-m-d H:i:s"  # 2026-12-01 14:30:59
PRECISE_DATETIME_FORMAT = "Y-m-d H:i:s.u T"  # 2026-12-01 14:30:59.000200 CET

# ISO 8601 first (what the date fields show), and dates written out; no ambiguous order.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-01
    "%d %b %Y",  # 1 Dec 2026
    "%d %B %Y",  # 1 December 2026
    "%b %d %Y",  # Dec 1 2026
    "%B %d %Y",  # December 1 2026
]
