"""The production topology, running: Nginx → gunicorn → PostgreSQL and Redis, on loopback.

Started as the containers start it: deploy/entrypoint.prod.sh (wait for the database,
migrate, collect and publish the static files) execs gunicorn with deploy/gunicorn.conf.py
and production settings; Nginx runs the deploy/nginx/ template, rendered as the image
renders it, for loopback ports and a throwaway certificate (harness/nginx.py). Whatever
database the rest of the suite runs on, this always uses a throwaway PostgreSQL database
and Redis database 3, as production would; so it runs in both CI passes.

One topology serves every test_topology_*.py file: the session fixture `topology` in
tests/conftest.py. A test that stops gunicorn starts it again (`restart_gunicorn`).
"""

import contextlib
import datetime as dt
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis

from harness.nginx import Nginx, start_nginx
from harness.postgres import postgres_server, throwaway_database
from harness.servers import ROOT, VENV_BIN, Response, Server, free_port, start_gunicorn, wait_until
from tests.roles import drop_role, role_name
from tests.tools import missing, tool

HOST = "portal.test"
# Sign-in POSTs and published plans: a few, then 429, each tried from an address of its own.
SIGNIN_RATE, SIGNIN_BURST = "1r/m", 3
PLANS_BURST = 3
REDIS_URL = "redis://127.0.0.1:6379/3"
# 1 play a minute per address, after a burst of 50: the checks stay far under it from
# 127.0.0.1, and the rate-limit check exceeds it from an address of its own.
PLAY_RATE, PLAY_BURST = "1r/m", 50
# Three moments of today that fell due a minute ago, as a plan made earlier would have.
MOMENTS_DUE = """
import datetime as dt
from django.utils import timezone
from contests.models import Contest, DayPlan, Prize, WinningMoment
now = timezone.now()
contest = Contest.objects.get(code="{code}")
day = contest.local_date(now)
plan = DayPlan.objects.create(
    prize=Prize.objects.get(contest=contest), day=day, moment_count=3,
    window_start=now - dt.timedelta(minutes=2), window_end=now + dt.timedelta(hours=1),
    made_at=now - dt.timedelta(minutes=2),
)
WinningMoment.objects.bulk_create(
    WinningMoment(plan=plan, contest=contest, day=day, at=now - dt.timedelta(minutes=1))
    for _ in range(3)
)
"""
# Dockerfile.prod's ENTRYPOINT is deploy/entrypoint.prod.sh, and this its CMD.
ENTRYPOINT = "deploy/entrypoint.prod.sh"
GUNICORN = ["gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi"]

LOST = b'{"data": {"winner": false, "prize": null}}'
WON = b'{"data": {"winner": true, "prize": {"code": "topology-prize", "name": "Topology prize"}}}'


@dataclass
class Topology:
    tmp: Path
    env: dict[str, str]
    published: Path
    gunicorn_port: int
    web: Server | None = None
    nginx: Nginx | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def cafile(self) -> Path:
        return self.nginx.cafile

    def https(self, path, *, method="GET", headers=None, body=None, source="127.0.0.1", host=HOST):
        return self.nginx.https(
            path, method=method, headers=headers, body=body, source=source, host=host
        )

    def http(self, path, *, headers=None, host=HOST) -> Response:
        return self.nginx.http(path, headers=headers, host=host)

    def gunicorn(self, path, *, headers=None) -> Response:
        """Straight to gunicorn, as nothing but Nginx can in production."""
        return self.web.get(path, headers={"Host": HOST, **(headers or {})})

    def start_gunicorn(self, command: list[str], log: Path, seconds: float) -> None:
        self.web = start_gunicorn(
            self.env,
            command=command,
            port=self.gunicorn_port,
            inherit_env=False,
            log=log,
            ready_path="/healthz",
            ready_headers={"Host": HOST},
            ready_statuses={200},
            timeout=seconds,
        )

    def restart_gunicorn(self) -> None:
        """gunicorn back on its port, after a test stopped it (no migration left to do)."""
        self.web.stop()
        self.start_gunicorn(GUNICORN, self.tmp / f"gunicorn-{secrets.token_hex(2)}.log", 30)

    def gunicorn_log(self) -> str:
        return self.web.log_text()

    def logged_by_gunicorn(self, text) -> str:
        """Wait for gunicorn's access log to show `text` (it writes after answering)."""
        wait_until(lambda: text in self.gunicorn_log(), f"gunicorn to log {text!r}", 10)
        return self.gunicorn_log()

    def manage(self, *args) -> str:
        result = subprocess.run(
            ["python", "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def drop_app_role(role: str) -> None:
    admin = psycopg2.connect(f"{postgres_server()}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        drop_role(cursor, role)
    admin.close()


def services_or_skip() -> None:
    try:
        psycopg2.connect(f"{postgres_server()}/postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        missing(f"PostgreSQL is not running at {postgres_server()}: {exc}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not running at 127.0.0.1:6379: {exc}")


@contextlib.contextmanager
def running_topology(tmp: Path) -> Iterator[Topology]:
    """Start it all, create the contests and API clients; stop it all and drop the database."""
    nginx = tool("nginx", "apt-get install nginx-light")
    openssl = tool("openssl", "apt-get install openssl")
    services_or_skip()
    with contextlib.ExitStack() as stack:
        # The portal runs as a role of its own, made and granted by the entrypoint; the
        # owner (postgres here) only migrates. Dropped after its database (LIFO).
        app_role = role_name("topology_app")
        stack.callback(drop_app_role, app_role)
        database = stack.enter_context(throwaway_database("topology"))
        server, name = database.rsplit("/", 1)
        app_url = f"postgres://{app_role}:{secrets.token_hex(8)}@{server.split('@')[-1]}/{name}"
        site = Topology(tmp=tmp, env={}, published=tmp / "public", gunicorn_port=free_port())
        site.env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "LANG": "C.UTF-8",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "DATABASE_URL": app_url,
            "DATABASE_MIGRATE_URL": database,
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": database.rsplit("/", 1)[-1],
            "DJANGO_STATIC_ROOT": str(tmp / "collected"),
            "STATIC_PUBLISH_ROOT": str(site.published),
            "GUNICORN_BIND": f"127.0.0.1:{site.gunicorn_port}",
            "WEB_CONCURRENCY": "2",
            "DB_WAIT_TRIES": "10",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        }
        site.start_gunicorn([ENTRYPOINT, *GUNICORN], tmp / "gunicorn.log", 60)
        stack.callback(lambda: site.web.stop())
        site.nginx = stack.enter_context(
            start_nginx(
                [site.web.address],
                directory=tmp,
                server_name=HOST,
                static_root=site.published,
                play_rate=PLAY_RATE,
                play_burst=PLAY_BURST,
                limits={
                    "NGINX_SIGNIN_RATE": SIGNIN_RATE,
                    "NGINX_SIGNIN_BURST": str(SIGNIN_BURST),
                    "NGINX_ADMIN_RATE": "20r/s",
                    "NGINX_ADMIN_BURST": "100",
                    "NGINX_PLANS_RATE": "1r/m",
                    "NGINX_PLANS_BURST": str(PLANS_BURST),
                },
                nginx=nginx,
                openssl=openssl,
            )
        )
        create_contests(site)
        yield site


def create_contests(site: Topology) -> None:
    today = dt.date.today()
    running = (today - dt.timedelta(days=30), today + dt.timedelta(days=30))
    for code, (start_day, end_day), *more in [
        ("TOPO-ON", running),
        ("TOPO-OFF", (dt.date(2020, 2, 1), dt.date(2020, 2, 29))),
        ("TOPO-PRIVATE", running),
        ("TOPO-CAPPED", running, "--wmax", "1"),
    ]:
        site.manage(
            "create_contest", code, "--name", "Topology",
            "--start", str(start_day), "--end", str(end_day),
            "--prize-code", "topology-prize", "--prize-name", "Topology prize",
            "--perday", "45", *more,
        )  # fmt: skip
    site.manage("shell", "--verbosity", "0", "-c", MOMENTS_DUE.format(code="TOPO-CAPPED"))
    for name, contests in [("enabled", ["--contest", "TOPO-PRIVATE"]), ("other", [])]:
        output = site.manage("create_api_client", f"Topology {name}", *contests)
        site.tokens[name] = output.splitlines()[-1]


def assert_envelope(answer: Response, status: int, title: str, detail: str) -> None:
    assert answer.status == status
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"error": {"status": str(status), "title": title, "detail": detail}}


def hashed(site: Topology, name: str) -> str:
    manifest = json.loads((site.published / "staticfiles.json").read_text())
    return manifest["paths"][name]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
