"""The webhooks' settings (docs/api.md, "Webhooks"): a Django setting of the same name wins,
else the environment variable, else the default here. Read with setting(NAME)."""

import environ
from django.conf import settings

env = environ.Env()

DEFAULTS = {
    # In production only https URLs that resolve to public addresses; this (or DJANGO_DEBUG)
    # allows http and loopback/private addresses, for local development and tests.
    "WEBHOOK_ALLOW_PRIVATE_URLS": env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False),
    # Longest wait for a receiver's answer; an attempt past it counts as failed.
    "WEBHOOK_TIMEOUT_SECONDS": env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0),
    # The wait after the first failed attempt, doubled after each (at most an hour)…
    "WEBHOOK_RETRY_SECONDS": env.float("WEBHOOK_RETRY_SECONDS", default=30.0),
    "WEBHOOK_RETRY_MAX_SECONDS": env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0),
    # …for this long after the event; then the delivery is dead (the admin can replay it).
    "WEBHOOK_RETRY_FOR_SECONDS": env.float("WEBHOOK_RETRY_FOR_SECONDS", default=24 * 3600.0),
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
