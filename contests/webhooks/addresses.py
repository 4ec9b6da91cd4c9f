"""Which URLs may receive webhooks: in production only https to public addresses (SSRF).

A brand's URL is checked when its endpoint is saved and again before every attempt (its
name may since resolve elsewhere). With DJANGO_DEBUG on, or WEBHOOK_ALLOW_PRIVATE_URLS,
http and loopback or private addresses are allowed: for local development and tests.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .defaults import setting


def allows_private() -> bool:
    return settings.DEBUG or setting("WEBHOOK_ALLOW_PRIVATE_URLS")


def check_url(url: str) -> None:
    """Raise ValidationError unless webhooks may be sent to `url` now."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(_("Give an absolute https:// URL."))
    if allows_private():
        return
    if parts.scheme != "https":
        raise ValidationError(_("Webhook URLs must use https."))
    try:
        port = parts.port or 443
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise ValidationError(
            _("%(host)s does not resolve: %(error)s") % {"host": parts.hostname, "error": exc}
        ) from exc
    for *_ignored, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip.is_multicast:
            raise ValidationError(
                _("%(host)s resolves to %(ip)s, a loopback, private or link-local address.")
                % {"host": parts.hostname, "ip": ip}
            )
