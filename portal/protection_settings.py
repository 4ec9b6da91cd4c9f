"""The settings of the portal's sign-in and page protections that read no environment:
lockouts (django-axes), the change history (django-simple-history) and the
Content-Security-Policy (django-csp). portal/settings.py takes them all; docs/security.md
says what each guards against.
"""

import datetime as dt

from csp.constants import NONE, SELF

# Sign-in lockouts (django-axes): 5 failures for one username, or 20 from one address,
# within 15 minutes lock that username or address out for 15 minutes; the right password
# is refused too, with a 429 page. Failures count until 15 minutes pass without another.
SIGN_IN_FAILURES_PER_USERNAME = 5
SIGN_IN_FAILURES_PER_ADDRESS = 20
AXES_HANDLER = "portal.lockout.PortalAxesHandler"
AXES_FAILURE_LIMIT = "portal.lockout.failure_limit"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
# A success does not wipe the count: one known password must not reset an address's
# guesses at the others.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "portal.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_address"
# Its own INFO lines say nothing the failure and lockout lines (portal.security) do not.
AXES_VERBOSE = False
# Passwords never reach the attempt records (axes masks "password" always); usernames and
# addresses do, and the log lines.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken"]

# The change history (django-simple-history): who changed what, never reverted from it.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Content-Security-Policy (django-csp 4): every file from the portal itself, no inline
# script, no style attribute, no frames. The play API's JSON answers go without it: they
# are never rendered, and it would cost every play a header.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/play/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # django-otp's admin draws a device's QR code as an SVG data: URL.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
