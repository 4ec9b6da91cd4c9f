"""Real servers on loopback, for the tests and the benchmark: gunicorn and a private Redis
(Nginx is in harness/nginx.py, a throwaway PostgreSQL database in harness/postgres.py).

Each server runs in a process group of its own on a free 127.0.0.1 port. `stop()` is a
graceful shutdown (SIGTERM to the server's main process, as `docker stop` sends; SIGKILL to
whatever is left after `timeout`), `kill()` a crash (SIGKILL to everything it started);
either reaches nothing but what the server started. A server is a context manager that
stops it. Nothing here imports Django, so the benchmark can start servers before setup.

    from harness.nginx import start_nginx
    from harness.postgres import throwaway_database
    from harness.servers import start_gunicorn, start_redis

    with throwaway_database("mytest") as url, start_redis() as redis:
        env = {"DATABASE_URL": url, "REDIS_URL": redis.url}   # over os.environ
        ...                                                   # manage.py migrate, contests
        with (
            start_gunicorn(env=env, workers=2) as one,
            start_gunicorn(env=env, prefix_cmd=["faketime", "-f", "+1d"]) as two,
            start_nginx([one.address, two.address], directory=tmp) as nginx,
        ):
            nginx.https("/play/?contest=C0001").json()
            one.stop()   # graceful: gunicorn lets its workers finish their requests
            two.kill()   # a crash: master and workers die at once

A fresh database needs `manage.py migrate` (with the same environment) before gunicorn
serves more than /play/'s 400; deploy/entrypoint.prod.sh does it when it is the command
(`command=["deploy/entrypoint.prod.sh", "gunicorn", ...]`, as the topology tests start it).
"""

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
# The scripts of the virtualenv that runs this (gunicorn, python) come first on PATH.
VENV_BIN = Path(sys.executable).parent
DEVNULL = Path(os.devnull)


class ServerError(RuntimeError):
    """A server did not start, or exited while something waited for it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    """One HTTP answer, read whole."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    """Send one request on `connection`, read the answer, close the connection."""
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Response(response.status, response.reason, response.headers, response.read())
    finally:
        connection.close()


class Server:
    """A process this module started: its port, log and process group."""

    def __init__(
        self,
        name: str,
        process: subprocess.Popen,
        *,
        port: int | None = None,
        log: Path | None = None,
        pidfile: Path | None = None,
    ):
        self.name = name
        self.process = process
        self.port = port
        self.log = log
        # A wrapper (faketime) forks the real server: the server says its own pid here.
        self.pidfile = pidfile

    def __repr__(self) -> str:
        return f"<{self.name} pid={self.process.pid} port={self.port}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """host:port, as an upstream `server` line or a bind address takes it."""
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def pid(self) -> int:
        """The server's main process (gunicorn's master), not a wrapper's."""
        if self.pidfile is not None:
            with contextlib.suppress(OSError, ValueError):
                return int(self.pidfile.read_text())
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def worker_pids(self) -> list[int]:
        """The pids of the main process's children: gunicorn's (or Nginx's) workers."""
        path = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def signal(self, sig: int) -> None:
        """Send `sig` to the main process only (SIGHUP, SIGTTIN... for gunicorn)."""
        os.kill(self.pid, sig)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the main process, SIGKILL to the group after `timeout`; wait for it."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to everything the server started (its process group); wait until all of
        it is dead (orphaned workers may stay zombies until init reaps them)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        wait_until(lambda: not _alive_in_group(self.process.pid), f"{self.name} dead", 10)
        if self.pidfile is not None:
            self.pidfile.unlink(missing_ok=True)

    def log_text(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]

    def get(
        self, path: str, *, headers: Mapping[str, str] | None = None, timeout: float = 10
    ) -> Response:
        """One plain HTTP GET straight to this server."""
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        return exchange(connection, "GET", path, headers)

    def wait_for_http(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        statuses: Collection[int] | None = None,
        seconds: float = 30,
    ) -> None:
        """Wait until `path` answers (with one of `statuses`, if given)."""

        def answered() -> bool:
            try:
                status = self.get(path, headers=headers, timeout=1).status
            except (OSError, http.client.HTTPException):
                return False
            return statuses is None or status in statuses

        wait_until(answered, f"{self.name} answering {path}", seconds, self)

    def wait_for_port(self, port: int | None = None, seconds: float = 20) -> None:
        """Wait until the server accepts TCP connections on `port` (its own by default)."""

        def listening() -> bool:
            with socket.create_connection((LOOPBACK, port or self.port), 1):
                return True

        wait_until(listening, f"{self.name} listening", seconds, self)


def wait_until(
    check: Callable[[], object], what: str, seconds: float, server: Server | None = None
) -> None:
    """Poll `check` until it is true (OSError counts as not yet); ServerError, with the
    server's log tail, if `server` exits first or `seconds` pass. Nothing here is timed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server is not None and not server.running():
            raise ServerError(
                f"{what}: {server.name} exited ({server.process.returncode})\n{_tail(server)}"
            )
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.1)
    raise ServerError(f"no {what} after {seconds} s\n{_tail(server)}")


def _alive_in_group(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (neither a zombie nor gone)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            state, _ppid, group = stat.read_text().rpartition(")")[2].split()[:3]
            if int(group) == pgid and state not in ("Z", "X"):
                return True
    return False


def _tail(server: Server | None) -> str:
    return server.tail() if server is not None else ""


def environment(env: Mapping[str, str] | None = None, *, inherit: bool = True) -> dict[str, str]:
    """`env` over os.environ (or alone, without `inherit`), the virtualenv first on PATH."""
    result = {**(os.environ if inherit else {}), **(env or {})}
    path = result.get("PATH", os.defpath)
    if not path.startswith(f"{VENV_BIN}{os.pathsep}"):
        result["PATH"] = f"{VENV_BIN}{os.pathsep}{path}"
    return result


def start(
    command: Sequence[str],
    *,
    name: str | None = None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    log: Path | None = None,
    pidfile: Path | None = None,
    cwd: Path = ROOT,
) -> Server:
    """Start `command` in a new process group; output to `log`, else to this process's."""
    output = log.open("w") if log is not None else None
    try:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=environment(env, inherit=inherit_env),
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
        )
    finally:
        if output is not None:
            output.close()
    return Server(name or Path(command[0]).name, process, port=port, log=log, pidfile=pidfile)


# gunicorn ---------------------------------------------------------------------------------


def gunicorn_command(
    bind: str, workers: int, *, config: str | None = None, args: Sequence[str] = ()
) -> list[str]:
    """gunicorn on the portal, from this virtualenv. gunicorn's control socket has one path
    per user: parallel servers would contend for it, so it is off."""
    command = [sys.executable, "-m", "gunicorn"]
    if config:
        command += ["-c", config]
    return [*command, "portal.wsgi", "--bind", bind, "--workers", str(workers), *args,
            "--no-control-socket"]  # fmt: skip


def start_gunicorn(
    env: Mapping[str, str] | None = None,
    *,
    workers: int = 2,
    config: str | None = None,
    args: Sequence[str] = (),
    prefix_cmd: Sequence[str] = (),
    command: Sequence[str] | None = None,
    port: int | None = None,
    inherit_env: bool = True,
    log: Path | None = None,
    ready_path: str = "/play/",
    ready_headers: Mapping[str, str] | None = None,
    ready_statuses: Collection[int] | None = None,
    timeout: float = 30,
) -> Server:
    """Start gunicorn on a free port and wait until `ready_path` answers.

    env: variables over os.environ (all of them, with inherit_env=False); DATABASE_URL,
        REDIS_URL, DJANGO_* as the portal reads them. GUNICORN_BIND and WEB_CONCURRENCY
        are set too, for deploy/gunicorn.conf.py.
    config: a gunicorn configuration file ("deploy/gunicorn.conf.py" as deployed);
        without one, gunicorn's defaults (sync workers). args: more gunicorn options.
    prefix_cmd: a wrapper, e.g. ["faketime", "-f", "+1d"]; gunicorn then writes its pid
        to a file, so that `.pid`, `.stop()` and `.worker_pids()` reach gunicorn itself.
    command: the whole command instead, as given (e.g. the image's entrypoint and CMD);
        it must bind GUNICORN_BIND.
    ready_statuses: the statuses that count as ready (any answer, by default).
    """
    port = port or free_port()
    bind = f"{LOOPBACK}:{port}"
    pidfile = None
    if command is None:
        extra = list(args)
        if prefix_cmd:
            pidfile = Path(tempfile.gettempdir()) / f"harness-gunicorn-{secrets.token_hex(6)}.pid"
            extra += ["--pid", str(pidfile)]
        command = [*prefix_cmd, *gunicorn_command(bind, workers, config=config, args=extra)]
    env = {**(env or {}), "GUNICORN_BIND": bind, "WEB_CONCURRENCY": str(workers)}
    server = start(
        command,
        name="gunicorn",
        port=port,
        env=env,
        inherit_env=inherit_env,
        log=log,
        pidfile=pidfile,
    )
    try:
        server.wait_for_http(
            ready_path, headers=ready_headers, statuses=ready_statuses, seconds=timeout
        )
    except BaseException:
        server.stop()
        raise
    return server


# Redis ------------------------------------------------------------------------------------


class RedisServer(Server):
    """A private redis-server without persistence: only its test uses it."""

    @property
    def url(self) -> str:
        return f"redis://{self.address}/0"

    def start(self) -> None:
        """Start it again on the same port, after `kill()` or `stop()`."""
        self.process = start(_redis_command(self.port), log=DEVNULL).process
        self.wait_for_port(seconds=10)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)


def _redis_command(port: int) -> list[str]:
    return ["redis-server", "--port", str(port), "--bind", LOOPBACK, "--save", "",
            "--appendonly", "no"]  # fmt: skip


def start_redis(port: int | None = None) -> RedisServer:
    """A private Redis on a free port, its output discarded; `.url` is its DB 0."""
    port = port or free_port()
    process = start(_redis_command(port), log=DEVNULL).process
    server = RedisServer("redis-server", process, port=port)
    try:
        server.wait_for_port(seconds=10)
    except BaseException:
        server.kill()
        raise
    return server
