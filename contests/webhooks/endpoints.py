"""Making a client's webhook endpoint: its URL checked (addresses.py), its secret shown once."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import ApiClient, WebhookEndpoint
from .addresses import check_url
from .delivery import new_secret
from .events import EVENT_KINDS


def check_events(events: list[str]) -> list[str]:
    """The kinds, each once, in the documented order; ValidationError for an unknown one."""
    unknown = sorted(set(events) - set(EVENT_KINDS))
    if unknown or not events:
        raise ValidationError(
            _("Unknown or missing event kinds: %(kinds)s. Choose among %(known)s.")
            % {"kinds": ", ".join(unknown) or "—", "known": ", ".join(EVENT_KINDS)}
        )
    return [kind for kind in EVENT_KINDS if kind in events]


def create_endpoint(client: ApiClient, url: str, events: list[str]) -> WebhookEndpoint:
    """Check and save a new endpoint with a new secret, which the caller shows once."""
    check_url(url)
    return WebhookEndpoint.objects.create(
        client=client, url=url, events=check_events(events), secret=new_secret()
    )
