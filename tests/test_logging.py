"""Every play is one log line on stdout with its request id; logging never breaks."""

import logging
import re

import pytest
import time_machine
from django.http import HttpResponse
from django.test import RequestFactory

from portal.request_id import RequestIdMiddleware
from tests.clock import rome

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
