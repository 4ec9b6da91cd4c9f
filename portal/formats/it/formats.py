"""Italian: 1 dicembre 2026, 01/12/2026, 1.234,50 (Django's Italian, in lowercase).

Month and weekday names come from the translations; Italian writes them in lowercase, and
locale/it overrides Django's capitalised ones (portal/locale_overrides.py).
"""

from django.conf.locale.it.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"  # 1 dicembre 2026
DATETIME_FORMAT = "j F Y, H:i"  # 1 dicembre 2026, 14:30
MONTH_DAY_FORMAT = "j F"  # 1 dicembre
SHORT_DATE_FORMAT = "d/m/Y"  # 01/12/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 01/12/2026 14:30

LONG_DATE_FORMAT = "l j F Y"  # martedì 1 dicembre 2026
MEDIUM_DATE_FORMAT = "j b Y"  # 1 dic 2026
DAY_MONTH_FORMAT = "D j b"  # mar 1 dic
WEEKDAY_DATE_FORMAT = "D j b Y"  # mar 1 dic 2026
SECONDS_DATETIME_FORMAT = "d/m/Y H:i:s"  # 01/12/2026 14:30:59
PRECISE_DATETIME_FORMAT = "d/m/Y H:i:s,u T"  # 01/12/2026 14:30:59,000200 CET

# The date fields show the first and accept any: the day first, as Italians write it, and
# ISO 8601, which links and scripts use whatever the language.
DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 01/12/2026
    "%d/%m/%y",  # 01/12/26
    "%d-%m-%Y",  # 01-12-2026
    "%d.%m.%Y",  # 01.12.2026
    "%Y-%m-%d",  # 2026-12-01
]
