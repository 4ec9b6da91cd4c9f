"""PostgreSQL roles that tests create: named after this run's database, always dropped."""

import os
import secrets

import environ


def role_name(purpose: str) -> str:
    """A new role's name: the configured database's name first, so that test runs sharing
    a PostgreSQL server never collide (portal_security_app_1a2b…), or TEST_ROLE_PREFIX."""
    prefix = os.environ.get("TEST_ROLE_PREFIX")
    if not prefix:
        url = os.environ.get("DATABASE_URL", "")
        name = environ.Env.db_url_config(url).get("NAME", "") if url.startswith("postgres") else ""
        prefix = f"{name or 'portal'}_"
    return f"{prefix}{purpose}_{secrets.token_hex(4)}"


def drop_role(cursor, role: str) -> None:
    """Drop `role` once nothing refers to it (its databases dropped, or DROP OWNED BY run in
    each; both revoke what it was granted)."""
    cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
