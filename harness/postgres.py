"""A throwaway PostgreSQL database on the project's server, for the tests and the benchmark.

The server is DATABASE_URL's when that is PostgreSQL, else POSTGRES; the name starts with
DATABASE_URL's database name, so that runs for different databases never collide.

    with throwaway_database("topology") as url:   # postgres://.../portal_topology_1a2b3c4d
        ...
"""

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

# Where PostgreSQL is when DATABASE_URL does not say (CI's and the README's set-up).
POSTGRES = "postgres://postgres@127.0.0.1:5432"


def _postgres_url(database_url: str | None):
    """DATABASE_URL (or `database_url`) split, when it is PostgreSQL's; else None."""
    url = urlsplit(os.environ.get("DATABASE_URL", "") if database_url is None else database_url)
    return url if url.scheme in ("postgres", "postgresql", "pgsql") else None


def postgres_server(database_url: str | None = None) -> str:
    """The server part of DATABASE_URL when it is PostgreSQL's, else POSTGRES."""
    url = _postgres_url(database_url)
    return f"postgres://{url.netloc}" if url else POSTGRES


def database_name(purpose: str, database_url: str | None = None) -> str:
    """A fresh name for a throwaway database: DATABASE_URL's name (else "portal"), the
    purpose and a random tag, so that parallel runs on one server never collide."""
    url = _postgres_url(database_url)
    base = url.path.strip("/") if url else ""
    return f"{base or 'portal'}_{purpose}_{secrets.token_hex(4)}"


def maintenance(statement: str, server: str | None = None) -> None:
    """Run one statement on the server's maintenance database, outside any transaction."""
    import psycopg2

    conn = psycopg2.connect(f"{server or postgres_server()}/postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def create_database(purpose: str, server: str | None = None) -> str:
    """Create an empty database (see database_name); return its URL."""
    server = server or postgres_server()
    name = database_name(purpose)
    maintenance(f'CREATE DATABASE "{name}"', server)
    return f"{server}/{name}"


def drop_database(url: str) -> None:
    """Drop the database of `url`, closing whatever sessions it still has."""
    name = urlsplit(url).path.strip("/")
    maintenance(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', postgres_server(url))


@contextlib.contextmanager
def throwaway_database(purpose: str, server: str | None = None) -> Iterator[str]:
    """An empty PostgreSQL database for the block; yields its URL, drops it after."""
    url = create_database(purpose, server)
    try:
        yield url
    finally:
        drop_database(url)
