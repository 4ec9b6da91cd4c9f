"""Every play is one log line on stdout with its request id; logging never breaks."""

import datetime as dt
import gzip
import http.server
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
import threading

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory

from portal import logs
from portal.request_id import RequestIdMiddleware
from tests.clock import rome
from tests.servers import ROOT, app_environment, free_port, play, wait_until_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def stdout_lines(stdout_log):
    return lambda: stdout_log.getvalue().splitlines()


def test_a_play_is_one_line_with_its_request_id(client, make_contest, stdout_lines):
    make_contest()
    with time_machine.travel(rome(2020, 2, 10, 12), tick=False):
        client.get("/play/?contest=C0001", HTTP_X_REQUEST_ID="abc-123")
        client.get("/play/?contest=C0002", HTTP_X_REQUEST_ID="abc-124")
        client.get("/play/")
    lines = stdout_lines()
    assert len(lines) == 3
    assert re.fullmatch(
        r"\S+ \S+ INFO contests\.play \[abc-123\] play contest=C0001 outcome=lost "
        r"status=200 duration_ms=\d+\.\d\d",
        lines[0],
    )
    assert "[abc-124] play contest=C0002 outcome=not_found status=404 " in lines[1]
    assert re.search(r"\[[0-9a-f]{32}\] play contest=- outcome=missing status=400 ", lines[2])


def test_logging_outside_a_request_does_not_fail(stdout_lines):
    logging.getLogger("contests").warning("no request here")
    [line] = stdout_lines()
    assert line.endswith("WARNING contests [-] no request here")


def request_id_of(header: str | None) -> str:
    headers = {} if header is None else {"HTTP_X_REQUEST_ID": header}
    request = RequestFactory().get("/", **headers)
    response = RequestIdMiddleware(lambda request: HttpResponse())(request)
    assert response["X-Request-ID"] == request.id
    return request.id


def test_an_incoming_request_id_is_kept():
    assert request_id_of("7f9c-upstream.id:1") == "7f9c-upstream.id:1"


@pytest.mark.parametrize("header", [None, "", "has space", "new\nline", "x" * 65, "ü"])
def test_a_missing_or_unsafe_request_id_is_replaced(header):
    assert re.fullmatch(r"[0-9a-f]{32}", request_id_of(header))


# Formats: text (above, the default) and JSON; both in UTC --------------------------------


def test_text_lines_are_stamped_in_utc(client, stdout_lines):
    client.get("/play/")
    [line] = stdout_lines()
    stamp = dt.datetime.strptime(line[:24], "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    # Django sets the process's zone to TIME_ZONE (Rome); the line still says UTC.
    assert abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=1)


@pytest.fixture
def json_lines(stdout_log, monkeypatch, settings):
    settings.LOG_FORMAT = "json"  # the play log reads it per line
    [handler] = [
        handler
        for handler in logging.getLogger().handlers
        if getattr(handler, "stream", None) is stdout_log
    ]
    # The formatter the settings would configure with DJANGO_LOG_FORMAT=json.
    formatter = logging.config.dictConfigClass({"version": 1}).configure_formatter(
        logs.formatter("json")
    )
    monkeypatch.setattr(handler, "formatter", formatter)
    return lambda: [json.loads(line) for line in stdout_log.getvalue().splitlines()]


def test_json_lines_carry_the_request_id_and_the_plays_fields(client, make_contest, json_lines):
    make_contest()
    with time_machine.travel(rome(2020, 2, 10, 12), tick=False):
        client.get("/play/?contest=C0001", HTTP_X_REQUEST_ID="abc-123")
    [record] = json_lines()
    assert record.pop("timestamp") == "2020-02-10T11:00:00+00:00"
    assert record.pop("duration_ms") >= 0
    assert record == {
        "level": "INFO",
        "logger": "contests.play",
        "request_id": "abc-123",
        "message": record["message"],
        "contest": "C0001",
        "outcome": "lost",
        "status": 200,
    }
    assert record["message"].startswith("play contest=C0001 outcome=lost status=200 ")


def test_json_lines_outside_a_request_and_with_an_exception(json_lines):
    try:
        raise ValueError("kaputt")
    except ValueError:
        logging.getLogger("contests").exception("it broke")
    [record] = json_lines()
    assert (record["level"], record["request_id"], record["message"]) == ("ERROR", "-", "it broke")
    assert "ValueError: kaputt" in record["exc_info"]


def test_an_unknown_log_format_stops_the_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_LOG_FORMAT must be one of text, json, not 'xml'" in result.stderr


def json_lines_of_one_play(tmp_path, **env: str) -> list[dict]:
    """Start gunicorn as deployed, play C0001 once (request id json-probe-1), stop it; return
    every line it wrote to stdout and stderr, each parsed as JSON."""
    port = free_port()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    env = app_environment(
        DJANGO_LOG_FORMAT="json", GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", **env
    )
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "portal.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + "/healthz", server)
            play(base, "contest=C0001", "json-probe-1")
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = out.read_text().splitlines() + err.read_text().splitlines()
    return [json.loads(line) for line in lines]  # every line is one JSON object


@pytest.mark.django_db(transaction=True)
def test_gunicorn_and_django_both_write_json_in_utc(make_contest, tmp_path):
    make_contest(start=dt.date.today(), end=dt.date.today())
    records = json_lines_of_one_play(tmp_path)
    assert all(record["timestamp"].endswith("+00:00") for record in records)
    [played] = [record for record in records if record.get("logger") == "contests.play"]
    assert (played["request_id"], played["contest"]) == ("json-probe-1", "C0001")
    [access] = [r for r in records if r["logger"] == "gunicorn.access" and "/play/" in r["message"]]
    assert "rid=json-probe-1" in access["message"]
    assert any(record["logger"] == "gunicorn.error" for record in records)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_writes_no_access_line_when_told_not_to(make_contest, tmp_path):
    # As the production image runs it, behind Nginx (which writes the access line). gunicorn
    # alone would write it anyway, since it is given a logging configuration.
    make_contest(start=dt.date.today(), end=dt.date.today())
    records = json_lines_of_one_play(tmp_path, GUNICORN_ACCESS_LOG="false")
    assert [r for r in records if r["logger"] == "gunicorn.access"] == []
    [played] = [record for record in records if record.get("logger") == "contests.play"]
    assert played["request_id"] == "json-probe-1"


# Sentry -------------------------------------------------------------------------------


class _FakeSentry(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).received.append(self.path.encode() + b"\n" + body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def run_with(code: str, **env) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "SENTRY_DSN"}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


SEND_AN_ERROR = (
    "import logging, sentry_sdk; print(sentry_sdk.get_client().is_active()); "
    "logging.getLogger('contests.play').error('boom-for-sentry'); sentry_sdk.flush(5)"
)


def test_errors_go_to_sentry_when_a_dsn_is_set():
    _FakeSentry.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://public@127.0.0.1:{server.server_port}/42"
        result = run_with(SEND_AN_ERROR, SENTRY_DSN=dsn)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"
    assert any(b"/api/42/envelope/" in sent and b"boom-for-sentry" in sent for sent in
               _FakeSentry.received), _FakeSentry.received  # fmt: skip


def test_without_a_dsn_sentry_stays_off():
    result = run_with(SEND_AN_ERROR)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
