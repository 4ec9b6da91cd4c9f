"""The address a request came from, as sign-in lockouts and the sign-in history see it.

In production gunicorn sees only Nginx's address in REMOTE_ADDR. Nginx overwrites
X-Forwarded-For with the one address it saw (`proxy_set_header X-Forwarded-For
$remote_addr`, deploy/nginx/templates/default.conf.template), and only Nginx reaches
gunicorn, so with TRUST_X_FORWARDED_FOR (on when DJANGO_DEBUG is off) that header is the
client. Without a proxy (the embedded default, runserver) anyone could send the header,
so REMOTE_ADDR is used.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address (django-axes' AXES_CLIENT_IP_CALLABLE)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        # Nginx sends exactly one address; should another proxy ever append its own, the
        # last entry is the one the proxy nearest to gunicorn saw.
        if forwarded and (address := _address(forwarded.rsplit(",", 1)[-1])):
            return address
    return _address(request.META.get("REMOTE_ADDR", "")) or None
