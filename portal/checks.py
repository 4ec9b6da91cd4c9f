"""Deploy checks of our own, run with Django's by `manage.py check --deploy` (and so by
deploy/entrypoint.prod.sh, which refuses to start on any of them).

- no value is still a placeholder of .env.prod.example ("change-me", example.com hosts);
- the secret key is long and random (Django's own security.W009 warns; this is an error);
- production has a cache that every process shares: REDIS_URL.
"""

import re

from django.conf import settings
from django.core.checks import Error, Tags, register

MIN_SECRET_LENGTH = 50
PLACEHOLDER = re.compile(r"change-me|(^|[.@/])example\.(com|org|net)\b", re.IGNORECASE)


def _placeholders() -> list[tuple[str, str]]:
    """(what, value) for each setting that still holds a value of .env.prod.example."""
    database = settings.DATABASES["default"]
    values = [
        ("DJANGO_SECRET_KEY", settings.SECRET_KEY),
        ("DATABASE_URL's password", str(database.get("PASSWORD") or "")),
        ("DJANGO_ALLOWED_HOSTS", " ".join(settings.ALLOWED_HOSTS)),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", " ".join(settings.CSRF_TRUSTED_ORIGINS)),
        ("REDIS_URL", settings.REDIS_URL),
    ]
    return [(what, value) for what, value in values if value and PLACEHOLDER.search(value)]


@register(Tags.security, deploy=True)
def check_production_values(app_configs, **kwargs) -> list[Error]:
    errors = [
        Error(
            f"{what} is still the placeholder of .env.prod.example.",
            hint="Replace every change-me and example.com in .env.prod (docs/security.md).",
            id="portal.E001",
        )
        for what, _ in _placeholders()
    ]
    if len(settings.SECRET_KEY) < MIN_SECRET_LENGTH or len(set(settings.SECRET_KEY)) < 5:
        errors.append(
            Error(
                f"DJANGO_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters, or not random.",
                hint='python3 -c "import secrets; print(secrets.token_urlsafe(50))"',
                id="portal.E002",
            )
        )
    if not settings.REDIS_URL:
        errors.append(
            Error(
                "REDIS_URL is not set: each process would count plays and remember the "
                "draw in a cache of its own.",
                hint="Set REDIS_URL to the production Redis, with its user and password.",
                id="portal.E003",
            )
        )
    return errors
