"""Deploy checks of our own, run with Django's by `manage.py check --deploy` (and so by
deploy/entrypoint.prod.sh, which refuses to start on any of them).

- no value is still a placeholder of .env.prod.example ("change-me", example.com hosts);
- the secret key is long and random (Django's own security.W009 warns; this is an error);
- production has a cache that every process shares: REDIS_URL.
"""

import os
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
        # Read by the entrypoint only, which runs these checks before it migrates.
        ("DATABASE_MIGRATE_URL", os.environ.get("DATABASE_MIGRATE_URL", "")),
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


# The record (contests/database_roles.py): what the portal's role must not be able to do.
FORBIDDEN = [
    ("contests_dayplan", "UPDATE"),
    ("contests_dayplan", "DELETE"),
    ("contests_winningmoment", "DELETE"),
    ("contests_win", "DELETE"),
    ("contests_winreview", "UPDATE"),
    ("contests_winreview", "DELETE"),
]


@register(Tags.database, deploy=True)
def check_database_role(app_configs, databases=None, **kwargs) -> list[Error]:
    """On PostgreSQL, the portal must not connect as a role that can rewrite the record.

    A database check: `manage.py check --deploy --database default` (the entrypoint runs it
    once the role has its grants)."""
    from django.db import connections

    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        role, superuser = cursor.fetchone()
        allowed = []
        for table, privilege in FORBIDDEN:
            cursor.execute(
                "SELECT to_regclass(%s) IS NOT NULL AND has_table_privilege(%s, %s)",
                [table, table, privilege],
            )
            if cursor.fetchone()[0]:
                allowed.append(f"{privilege} on {table}")
    if superuser or allowed:
        return [
            Error(
                f"The portal connects to PostgreSQL as {role}, who "
                + ("is a superuser" if superuser else "may " + ", ".join(allowed))
                + ": it could rewrite the record.",
                hint="DATABASE_URL must be the portal's own role and DATABASE_MIGRATE_URL the "
                "owner's; the entrypoint grants the former exactly what it may do "
                "(docs/security.md).",
                id="portal.E004",
            )
        ]
    return []
