"""Real servers for tests that must see the wire: gunicorn on the test database, a private
Redis that a test may kill and start again. The machinery is harness/servers.py's."""

import contextlib
import http.client
import os
import subprocess
import urllib.error
import urllib.request

from django.conf import settings
from django.db import connection

from harness.servers import (
    ROOT,
    RedisServer,
    Server,
    free_port,
    start_gunicorn,
    start_redis,
    wait_until,
)
from tests.invariants import Answer

__all__ = [
    "ROOT",
    "app_environment",
    "free_port",
    "gunicorn",
    "gunicorn_server",
    "play",
    "redis_server",
    "wait_until_up",
]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Wait until a server started by hand answers `url` at all (any HTTP status)."""

    def answered() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with contextlib.suppress(urllib.error.HTTPError):  # an HTTP error is an answer too
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback test server)
        return True

    wait_until(answered, url, seconds)


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def app_environment(**extra: str) -> dict[str, str]:
    """os.environ, with the test database and the tests' cache (Redis, if they use it)."""
    env = {**os.environ, "DATABASE_URL": database_url()}
    if "redis" in settings.CACHES["default"]["BACKEND"]:
        env["REDIS_URL"] = settings.CACHES["default"]["LOCATION"]
    return {**env, **extra}


def gunicorn_server(workers: int = 2, **env: str) -> Server:
    """The portal under gunicorn on the test database: `with gunicorn_server() as server`."""
    return start_gunicorn(app_environment(**env), workers=workers, args=["--log-level", "warning"])


@contextlib.contextmanager
def gunicorn(workers: int = 2, **env: str):
    """Run the portal under gunicorn on the test database; yield its base URL."""
    with gunicorn_server(workers, **env) as server:
        yield server.url


def play(base: str, query: str, request_id: str, headers: dict | None = None) -> Answer:
    """One GET /play/ with its own request id; an Answer with status None if none came back."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        headers = {"X-Request-ID": request_id, **(headers or {})}
        conn.request("GET", f"/play/?{query}", headers=headers)
        response = conn.getresponse()
        return Answer(
            request_id, response.status, response.read(), response.getheader("Content-Type", "")
        )
    except (ConnectionError, http.client.HTTPException):
        return Answer(request_id, None)
    finally:
        conn.close()


def redis_server() -> RedisServer:
    """A private Redis, killed and started again at will: `with redis_server() as redis`."""
    return start_redis()
