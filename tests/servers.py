"""Real servers for tests that must see the wire: gunicorn on a free loopback port, and a
private Redis that a test may kill and start again."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.invariants import Answer

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def app_environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url()}
    redis_url = settings.CACHES["default"]["LOCATION"]
    if "redis" in settings.CACHES["default"]["BACKEND"]:
        env["REDIS_URL"] = redis_url
    return {**env, **extra}


@dataclass
class Gunicorn:
    """A running gunicorn: its base URL and its master process."""

    base: str
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """The pids of the master's children: its workers."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


@contextlib.contextmanager
def gunicorn_server(workers: int = 2, **env: str):
    """Run the portal under gunicorn on the test database; yield the running server."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning",
         # gunicorn's control socket has one path per user: parallel servers would contend.
         "--no-control-socket"],
        cwd=ROOT,
        env=app_environment(**env),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/play/", process)
        yield Gunicorn(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def gunicorn(workers: int = 2, **env: str):
    """Run the portal under gunicorn on the test database; yield its base URL."""
    with gunicorn_server(workers, **env) as server:
        yield server.base


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback test server)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


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


class RedisServer:
    """A private redis-server on a free port, without persistence: only this test uses it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)


@contextlib.contextmanager
def redis_server():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()
