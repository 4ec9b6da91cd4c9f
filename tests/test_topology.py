"""The production topology, running: Nginx → gunicorn → PostgreSQL and Redis, on loopback.

Started as the containers start it: deploy/entrypoint.prod.sh (wait for the database,
migrate, collect and publish the static files) execs gunicorn with deploy/gunicorn.conf.py
and production settings; Nginx runs the deploy/nginx/ template, rendered as the image
renders it, for loopback ports and a throwaway certificate. Whatever database the rest of
the suite runs on, this always uses a throwaway PostgreSQL database and Redis database 3,
as production would; so it runs in both CI passes.
"""

import datetime as dt
import http.client
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.nginx_template import TEMPLATES, render
from tests.roles import drop_role, role_name
from tests.tools import VENV_BIN, missing, tool

ROOT = Path(__file__).resolve().parent.parent
HOST = "portal.test"
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/3"
# 1 play a minute per address, after a burst of 50: the checks below stay far under it
# from 127.0.0.1, and the rate-limit check exceeds it from an address of its own.
PLAY_RATE, PLAY_BURST = "1r/m", 50
# Sign-in POSTs and published plans: a few, then 429, each tried from an address of its own.
SIGNIN_RATE, SIGNIN_BURST = "1r/m", 3
PLANS_BURST = 3
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
GUNICORN = ["gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi"]

LOST = b'{"data": {"winner": false, "prize": null}}'
WON = b'{"data": {"winner": true, "prize": {"code": "topology-prize", "name": "Topology prize"}}}'


@dataclass
class Answer:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


class _PortalHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 under the portal's name (SNI and Host), without any DNS."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout, self.source_address)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _exchange(connection, method, path, headers, body) -> Answer:
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.reason, response.headers, response.read())
    finally:
        connection.close()


@dataclass
class Topology:
    tmp: Path
    cafile: Path
    http_port: int
    https_port: int
    gunicorn_port: int
    env: dict[str, str]
    published: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def https(self, path, *, method="GET", headers=None, body=None, source="127.0.0.1", host=HOST):
        context = ssl.create_default_context(cafile=self.cafile)
        connection = _PortalHTTPS(
            host, self.https_port, context=context, timeout=10, source_address=(source, 0)
        )
        return _exchange(connection, method, path, headers, body)

    def http(self, path, *, headers=None, host=HOST):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        return _exchange(connection, "GET", path, {"Host": host, **(headers or {})}, None)

    def gunicorn(self, path, *, headers=None):
        """Straight to gunicorn, as nothing but Nginx can in production."""
        connection = http.client.HTTPConnection("127.0.0.1", self.gunicorn_port, timeout=10)
        return _exchange(connection, "GET", path, {"Host": HOST, **(headers or {})}, None)

    def gunicorn_log(self) -> str:
        return (self.tmp / "gunicorn.log").read_text()

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


def wait_until(check, what, seconds, process=None, log=None):
    """Poll `check` until it holds; fail saying what never happened (no result is timed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited ({process.returncode})\n{_tail(log)}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no {what} after {seconds} s\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text()[-3000:] if log and log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    """Stop a process this module started, and its children (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def start(stack: ExitStack, command, log: Path, **options) -> subprocess.Popen:
    output = stack.enter_context(log.open("w"))
    process = subprocess.Popen(
        command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
    )
    stack.callback(stop, process)
    return process


def services_or_skip() -> None:
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=3, **POSTGRES).close()
    except psycopg2.OperationalError as exc:
        missing(f"PostgreSQL is not running at 127.0.0.1:5432: {exc}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        missing(f"Redis is not running at 127.0.0.1:6379: {exc}")


def drop_app_role(role: str) -> None:
    admin = psycopg2.connect(dbname="postgres", **POSTGRES)
    admin.autocommit = True
    with admin, admin.cursor() as cursor:
        drop_role(cursor, role)
    admin.close()


def throwaway_database(stack: ExitStack) -> str:
    name = f"portal_topology_{secrets.token_hex(4)}"
    admin = psycopg2.connect(dbname="postgres", **POSTGRES)
    admin.autocommit = True
    stack.callback(admin.close)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    stack.callback(drop)
    return name


def certificate(tmp: Path) -> tuple[Path, Path]:
    openssl = tool("openssl", "apt-get install openssl")
    cert, key = tmp / "fullchain.pem", tmp / "privkey.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", f"/CN={HOST}"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx_main_config(tmp: Path) -> Path:
    """What the image's own nginx.conf provides around conf.d/, with every path in tmp."""
    temp = tmp / "nginx-temp"
    temp.mkdir()
    # The template's access_log is /dev/stdout: the container's log, here a file.
    config = f"""
        {"user root;" if os.geteuid() == 0 else ""}
        daemon off;
        worker_processes 1;
        pid {tmp}/nginx.pid;
        error_log {tmp}/nginx-error.log notice;
        events {{ worker_connections 256; }}
        http {{
            include /etc/nginx/mime.types;
            default_type application/octet-stream;
            sendfile on;
            keepalive_timeout 65;
            client_body_temp_path {temp}/body;
            proxy_temp_path {temp}/proxy;
            fastcgi_temp_path {temp}/fastcgi;
            uwsgi_temp_path {temp}/uwsgi;
            scgi_temp_path {temp}/scgi;
            include {tmp}/conf.d/*.conf;
        }}
    """
    path = tmp / "nginx.conf"
    path.write_text(config)
    return path


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    nginx = tool("nginx", "apt-get install nginx-light")
    services_or_skip()
    tmp = tmp_path_factory.mktemp("topology")
    with ExitStack() as stack:
        # The portal runs as a role of its own, made and granted by the entrypoint; the
        # owner (postgres here) only migrates. Dropped after its database (LIFO).
        app_role = role_name("topology_app")
        stack.callback(drop_app_role, app_role)
        database = throwaway_database(stack)
        cert, key = certificate(tmp)
        site = Topology(
            tmp=tmp,
            cafile=cert,
            http_port=free_port(),
            https_port=free_port(),
            gunicorn_port=free_port(),
            env={},
            published=tmp / "public",
        )
        site.env = {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "LANG": "C.UTF-8",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
            "DATABASE_URL": f"postgres://{app_role}:{secrets.token_hex(8)}@127.0.0.1:5432/{database}",
            "DATABASE_MIGRATE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": database,
            "DJANGO_STATIC_ROOT": str(tmp / "collected"),
            "STATIC_PUBLISH_ROOT": str(site.published),
            "GUNICORN_BIND": f"127.0.0.1:{site.gunicorn_port}",
            "WEB_CONCURRENCY": "2",
            "DB_WAIT_TRIES": "10",
        }
        gunicorn_log = tmp / "gunicorn.log"
        site.processes["gunicorn"] = start(
            stack,
            ["deploy/entrypoint.prod.sh", *GUNICORN],
            gunicorn_log,
            cwd=ROOT,
            env=site.env,
        )
        wait_until(
            lambda: site.gunicorn("/healthz").status == 200,
            "healthy gunicorn",
            60,
            site.processes["gunicorn"],
            gunicorn_log,
        )

        variables = {
            "NGINX_SERVER_NAME": HOST,
            "NGINX_HTTP_LISTEN": f"127.0.0.1:{site.http_port}",
            "NGINX_HTTPS_LISTEN": f"127.0.0.1:{site.https_port}",
            "NGINX_SSL_CERTIFICATE": str(cert),
            "NGINX_SSL_CERTIFICATE_KEY": str(key),
            "NGINX_UPSTREAM_SERVER": f"127.0.0.1:{site.gunicorn_port}",
            "NGINX_STATIC_ROOT": str(site.published),
            "NGINX_PLAY_RATE": PLAY_RATE,
            "NGINX_PLAY_BURST": str(PLAY_BURST),
            "NGINX_SIGNIN_RATE": SIGNIN_RATE,
            "NGINX_SIGNIN_BURST": str(SIGNIN_BURST),
            "NGINX_ADMIN_PATH": "/admin/",
            "NGINX_ADMIN_RATE": "20r/s",
            "NGINX_ADMIN_BURST": "100",
            "NGINX_PLANS_RATE": "1r/m",
            "NGINX_PLANS_BURST": str(PLANS_BURST),
        }
        # As the image does: templates/X.conf.template becomes conf.d/X.conf.
        (tmp / "conf.d").mkdir()
        for template in TEMPLATES.glob("*.template"):
            rendered = render(template.read_text(), variables)
            (tmp / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)
        config = nginx_main_config(tmp)
        site.processes["nginx"] = start(
            stack,
            [nginx, "-p", str(tmp), "-c", str(config), "-e", str(tmp / "nginx-error.log")],
            tmp / "nginx-access.log",
        )
        wait_until(
            lambda: socket.create_connection(("127.0.0.1", site.https_port), 1).close() is None,
            "Nginx listening",
            20,
            site.processes["nginx"],
            tmp / "nginx-error.log",
        )

        today = dt.date.today()
        running = (today - dt.timedelta(days=30), today + dt.timedelta(days=30))
        for code, (start_day, end_day), *more in [
            ("TOPO-ON", running),
            ("TOPO-OFF", (dt.date(2020, 2, 1), dt.date(2020, 2, 29))),
            ("TOPO-PRIVATE", running),
            ("TOPO-CAPPED", running, "--wmax", "1"),
        ]:
            site.manage(
                "create_contest",
                code,
                "--name",
                "Topology",
                "--start",
                str(start_day),
                "--end",
                str(end_day),
                "--prize-code",
                "topology-prize",
                "--prize-name",
                "Topology prize",
                "--perday",
                "45",
                *more,
            )
        site.manage("shell", "--verbosity", "0", "-c", MOMENTS_DUE.format(code="TOPO-CAPPED"))
        for name, contests in [("enabled", ["--contest", "TOPO-PRIVATE"]), ("other", [])]:
            output = site.manage("create_api_client", f"Topology {name}", *contests)
            site.tokens[name] = output.splitlines()[-1]
        yield site


def assert_envelope(answer: Answer, status: int, title: str, detail: str) -> None:
    assert answer.status == status
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"error": {"status": str(status), "title": title, "detail": detail}}


def hashed(site: Topology, name: str) -> str:
    manifest = json.loads((site.published / "staticfiles.json").read_text())
    return manifest["paths"][name]


# Static files ------------------------------------------------------------------------


def test_nginx_serves_hashed_static_files_with_year_long_immutable_caching(topology):
    path = f"/static/{hashed(topology, 'admin/css/base.css')}"
    answer = topology.https(path, headers={"X-Request-ID": "static-probe"})
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/css"
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert b".module" in answer.body
    # Not Django: it would have set X-Request-ID, and gunicorn would have logged it.
    assert "X-Request-ID" not in answer.headers
    marker = "after-static-probe"
    topology.https("/healthz", headers={"X-Request-ID": marker})
    log = topology.logged_by_gunicorn(f"rid={marker}")
    assert "/static/" not in log
    assert "rid=static-probe " not in log


def test_nginx_sends_the_precompressed_file_whitenoise_wrote(topology):
    name = hashed(topology, "admin/css/base.css")
    answer = topology.https(f"/static/{name}", headers={"Accept-Encoding": "gzip"})
    assert answer.status == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    # Byte for byte the .gz from collectstatic, not a compression made on the fly.
    assert answer.body == (topology.published / f"{name}.gz").read_bytes()
    assert answer.headers["Content-Length"] == str(len(answer.body))


def test_unhashed_static_names_are_revalidated(topology):
    answer = topology.https("/static/admin/css/base.css")
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-cache"


def test_the_release_lock_is_not_served(topology):
    assert (topology.published / ".release.lock").exists()
    assert topology.https("/static/.release.lock").status == 404


def test_the_admin_login_page_renders_with_its_css(topology):
    answer = topology.https("/admin/login/")
    assert answer.status == 200
    css = f"/static/{hashed(topology, 'admin/css/base.css')}"
    assert f'href="{css}"'.encode() in answer.body
    assert topology.https(css).status == 200
    # Production cookies only travel over HTTPS.
    assert "Secure" in answer.headers["Set-Cookie"]
    # Django's security headers, each once: Nginx adds its own only where Django did not.
    assert answer.headers.get_all("X-Frame-Options") == ["DENY"]
    assert len(answer.headers.get_all("Strict-Transport-Security")) == 1


# The play API through Nginx ------------------------------------------------------------


def test_play_answers_r1_without_a_contest_code(topology):
    answer = topology.https("/play/")
    assert_envelope(answer, 400, "Contest code missing", "Specify contest code parameter.")
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])


def test_play_answers_r2_for_an_unknown_code(topology):
    answer = topology.https("/play/?contest=NOPE")
    assert_envelope(answer, 404, "Contest not found", "Contest code NOPE not found.")


def test_play_answers_r3_for_a_contest_that_ended(topology):
    answer = topology.https("/play/?contest=TOPO-OFF")
    assert_envelope(
        answer, 422, "Contest in not active", "The contest with code TOPO-OFF is not active."
    )


def test_play_answers_r4_or_r5_for_a_running_contest(topology):
    answer = topology.https("/play/?contest=TOPO-ON")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body in (LOST, WON)
    assert "no-cache" in answer.headers["Cache-Control"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_play_answers_r6_without_valid_credentials(topology):
    answer = topology.https("/play/?contest=TOPO-PRIVATE")
    assert answer.status == 401
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"]["status"] == "401"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    forged = topology.https("/play/?contest=TOPO-ON", headers=bearer("cpt_not-a-real-token"))
    assert forged.status == 401
    assert forged.json()["error"]["status"] == "401"


def test_play_answers_r7_for_a_client_not_enabled_for_the_contest(topology):
    answer = topology.https("/play/?contest=TOPO-PRIVATE", headers=bearer(topology.tokens["other"]))
    assert_envelope(
        answer,
        403,
        "Forbidden",
        "This API client is not enabled for contest code TOPO-PRIVATE.",
    )
    enabled = topology.https(
        "/play/?contest=TOPO-PRIVATE", headers=bearer(topology.tokens["enabled"])
    )
    assert enabled.status == 200


def test_play_answers_r8_with_its_own_status_line_for_a_capped_player(topology):
    first = topology.https("/play/?contest=TOPO-CAPPED&user=alice")
    assert first.status == 200
    assert first.json()["data"]["winner"] is True
    second = topology.https("/play/?contest=TOPO-CAPPED&user=alice")
    assert second.status == 420
    assert second.reason == "Enhance Your Calm"
    assert second.headers["Content-Type"] == "application/json"
    assert second.json()["error"]["status"] == "420"
    # Another player still wins one of the moments left.
    other = topology.https("/play/?contest=TOPO-CAPPED&user=bob")
    assert other.json()["data"]["winner"] is True


def test_the_request_id_is_the_clients_when_safe_and_the_same_everywhere(topology):
    answer = topology.https("/play/?contest=NOPE", headers={"X-Request-ID": "client-id.1"})
    assert answer.headers["X-Request-ID"] == "client-id.1"
    assert "rid=client-id.1 for=127.0.0.1" in topology.logged_by_gunicorn("rid=client-id.1")


def test_nginx_makes_the_request_id_when_the_client_sends_none_or_an_unsafe_one(topology):
    for headers in [{}, {"X-Request-ID": "has space"}]:
        answer = topology.https("/play/?contest=NOPE", headers=headers)
        request_id = answer.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        # gunicorn logs the header it received: Nginx made this id, not Django.
        topology.logged_by_gunicorn(f"rid={request_id}")


def test_nginx_overwrites_the_forwarding_headers_a_client_sends(topology):
    answer = topology.https(
        "/admin/login/",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "http",
            "X-Request-ID": "forwarding-probe",
        },
    )
    assert answer.status == 200
    log = topology.logged_by_gunicorn("rid=forwarding-probe")
    assert "rid=forwarding-probe for=127.0.0.1" in log
    assert "203.0.113.9" not in log


def test_django_sees_https_only_because_nginx_says_so(topology):
    # Through Nginx (TLS) no redirect; straight to gunicorn, SECURE_SSL_REDIRECT sends the
    # client to HTTPS, and it would believe anyone who sent the header: hence no published port.
    assert topology.https("/admin/login/").status == 200
    direct = topology.gunicorn("/admin/login/")
    assert direct.status == 301
    assert direct.headers["Location"] == f"https://{HOST}/admin/login/"
    assert topology.gunicorn("/admin/login/", headers={"X-Forwarded-Proto": "https"}).status == 200


def test_plain_http_is_only_a_redirect_to_https(topology):
    answer = topology.http("/play/?contest=TOPO-ON")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}/play/?contest=TOPO-ON"


def test_unknown_host_names_get_no_answer(topology):
    with pytest.raises(http.client.RemoteDisconnected):
        topology.http("/", host="elsewhere.test")
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        topology.https("/", host="elsewhere.test")


def test_nginx_answers_its_own_health_check(topology):
    answer = topology.http("/nginx-health", host="127.0.0.1")
    assert (answer.status, answer.body) == (200, b"ok\n")


def test_healthz_through_nginx(topology):
    answer = topology.https("/healthz")
    assert answer.status == 200
    # To the outside, up or down and nothing more.
    assert answer.json() == {"status": "ok"}
    assert "no-store" in answer.headers["Cache-Control"]


def test_the_containers_health_check_script_passes_and_needs_an_allowed_host(topology):
    def healthcheck(**env):
        return subprocess.run(
            [sys.executable, "deploy/healthcheck.py"],
            cwd=ROOT,
            env={**topology.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    healthy = healthcheck()
    assert healthy.returncode == 0, healthy.stderr
    assert json.loads(healthy.stdout)["status"] == "ok"
    refused = healthcheck(DJANGO_ALLOWED_HOSTS="elsewhere.test")
    assert refused.returncode == 1
    assert "unhealthy: 400" in refused.stderr


def test_oversized_bodies_stop_at_nginx(topology):
    context = ssl.create_default_context(cafile=topology.cafile)
    connection = _PortalHTTPS(HOST, topology.https_port, context=context, timeout=10)
    try:
        # Nginx judges by the declared length, before reading any of the body.
        connection.putrequest("POST", "/admin/login/")
        connection.putheader("Content-Length", str(3 * 1024 * 1024))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_too_many_plays_from_one_address_get_429_in_the_envelope(topology):
    # From an address of its own, so no other check shares its allowance.
    statuses = [topology.https("/play/", source="127.0.0.2").status for _ in range(PLAY_BURST + 1)]
    assert statuses == [400] * (PLAY_BURST + 1)
    answer = topology.https("/play/", source="127.0.0.2")
    assert_envelope(
        answer,
        429,
        "Too many requests",
        "Too many plays from this address; try again in a second.",
    )
    assert answer.headers["Retry-After"] == "1"
    # Only /play/ is limited.
    assert topology.https("/healthz", source="127.0.0.2").status == 200


# Security (docs/security.md) ------------------------------------------------------------


def test_player_ids_stay_out_of_the_access_logs(topology):
    player = "player-" + secrets.token_hex(6)
    answer = topology.https(
        f"/play/?contest=TOPO-ON&user={player}", headers={"X-Request-ID": "privacy-probe"}
    )
    assert answer.status == 200
    gunicorn_log = topology.logged_by_gunicorn("rid=privacy-probe")
    assert (
        '"GET /play/ HTTP/1.0" 200' in gunicorn_log or '"GET /play/ HTTP/1.1" 200' in gunicorn_log
    )
    wait_until(
        lambda: "rid=privacy-probe" in (topology.tmp / "nginx-access.log").read_text(),
        "Nginx to log the probe",
        10,
    )
    nginx_log = (topology.tmp / "nginx-access.log").read_text()
    assert '"GET /play/ HTTP/1.1" 200' in nginx_log
    # Neither the access lines nor Django's play line (which names the contest) has it.
    assert player not in gunicorn_log + nginx_log


@pytest.mark.parametrize(
    ("path", "source"), [("/accounts/login/", "127.0.0.3"), ("/admin/login/", "127.0.0.4")]
)
def test_nginx_limits_sign_in_attempts_per_address(topology, path, source):
    # Without a CSRF token Django refuses each POST (403) — until Nginx refuses them all.
    statuses = [
        topology.https(path, method="POST", body=b"username=x&password=y", source=source).status
        for _ in range(SIGNIN_BURST + 1)
    ]
    assert statuses == [403] * (SIGNIN_BURST + 1)
    assert topology.https(path, method="POST", body=b"", source=source).status == 429
    # Showing the page is never limited.
    assert topology.https(path, source=source).status == 200


def test_nginx_limits_the_published_plans_per_address(topology):
    path = "/contests/TOPO-ON/plans/2020-01-01/"
    statuses = [topology.https(path, source="127.0.0.5").status for _ in range(PLANS_BURST + 1)]
    assert statuses == [404] * (PLANS_BURST + 1)
    answer = topology.https(path, source="127.0.0.5")
    assert_envelope(
        answer,
        429,
        "Too many requests",
        "Too many requests from this address; try again in a second.",
    )


def test_pages_carry_the_content_security_policy_once(topology):
    answer = topology.https("/accounts/login/")
    assert answer.status == 200
    [policy] = answer.headers.get_all("Content-Security-Policy")
    assert "default-src 'self'" in policy
    assert answer.headers.get_all("Referrer-Policy") == ["same-origin"]
    assert "camera=()" in answer.headers["Permissions-Policy"]


def test_the_portal_runs_as_a_role_that_cannot_rewrite_the_record(topology):
    # The entrypoint checked it before gunicorn started (portal.E004); the owner would fail.
    topology.manage("check", "--deploy", "--tag", "database", "--database", "default")
    owner = {**topology.env, "DATABASE_URL": topology.env["DATABASE_MIGRATE_URL"]}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--tag", "database", "--database",
         "default"],
        cwd=ROOT, env=owner, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "portal.E004" in result.stderr


# Last: it stops gunicorn. -------------------------------------------------------------


def test_play_answers_502_in_the_envelope_when_gunicorn_is_down(topology):
    stop(topology.processes["gunicorn"])
    answer = topology.https("/play/?contest=TOPO-ON")
    assert_envelope(answer, 502, "Bad gateway", "The service is briefly unavailable; try again.")
    # Elsewhere Nginx's own error page is fine.
    assert topology.https("/admin/login/").status == 502
