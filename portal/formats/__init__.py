"""The portal's date and number formats, per language (FORMAT_MODULE_PATH).

Each language's module starts from Django's own and changes what the portal shows. Beside
Django's names (DATE_FORMAT, SHORT_DATE_FORMAT, ...) they define the portal's own, which
formats.date_format() finds by name in these modules:

- LONG_DATE_FORMAT: a day with its weekday, in headings and reports.
- MEDIUM_DATE_FORMAT: a day in tables and lists, month abbreviated.
- DAY_MONTH_FORMAT: a day next to its neighbours (the contest page's day links).
- WEEKDAY_DATE_FORMAT: a day with its weekday, abbreviated (the report's days, messages).
- SECONDS_DATETIME_FORMAT and PRECISE_DATETIME_FORMAT: instants to the second and to the
  microsecond, for wins, moments and reviews.

Every name must be in both languages: a name that a language lacks is taken as a format
itself. tests/test_i18n.py checks that they match.
"""

PORTAL_FORMATS = (
    "LONG_DATE_FORMAT",
    "MEDIUM_DATE_FORMAT",
    "DAY_MONTH_FORMAT",
    "WEEKDAY_DATE_FORMAT",
    "SECONDS_DATETIME_FORMAT",
    "PRECISE_DATETIME_FORMAT",
)
