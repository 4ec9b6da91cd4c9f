"""The settings of the portal's languages that read no environment; portal/settings.py takes
them all, and reads DJANGO_LANGUAGE_CODE itself (docs/i18n.md).

The staff portal, its forms, messages, charts, the admin and the commands' human output
speak Italian or English; the API's bodies are the contract's, in English, whatever the
request asks for (portal/i18n.py).
"""

LANGUAGES = [("it", "Italiano"), ("en", "English")]
# Dates and numbers in each language's own way: 1 dicembre 2026, 1.234 (portal/formats/).
FORMAT_MODULE_PATH = ["portal.formats"]
USE_THOUSAND_SEPARATOR = True
# The choice (set_language) is kept for a year; only the server reads it, over HTTPS in
# production (LANGUAGE_COOKIE_SECURE, in portal/settings.py).
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
