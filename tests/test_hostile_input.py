"""Hostile input at scale: whatever the query string, headers and method, /play/ answers one
of its statuses in its envelope, and never a 5xx."""

import datetime as dt
import json
import socket
from urllib.parse import quote, quote_from_bytes

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contests.models import ApiClient
from contests.play.credentials import issue_token
from tests.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

# The spec's statuses, plus 405 for other methods and 429 should a limiter ever answer.
STATUSES = {200, 400, 401, 403, 404, 405, 420, 422, 429}
VALID_TOKEN = "<the valid token>"

printable = st.characters(codec="latin-1", exclude_categories=["Cc"])
codes = st.sampled_from(["C0001", "C0002", "C0003", "C0000", "c0001", "", "C0001 "])
players = st.sampled_from(["alice", "bob", ""]) | st.text(max_size=140)
values = codes | players | st.text(max_size=60)
names = st.sampled_from(["contest", "user", "CONTEST", "contest[]", "user[]", ""]) | st.text(
    max_size=12
)
pairs = st.lists(st.tuples(names, values), max_size=6)
queries = st.one_of(
    pairs.map(lambda items: "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)),
    # Raw bytes, percent-encoded where needed: invalid UTF-8, NULs, separators kept.
    st.binary(max_size=200).map(lambda raw: quote_from_bytes(raw, safe="=&;+%")),
    # More fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS is 1000).
    st.integers(990, 1100).map(lambda n: "contest=C0001&" + "&".join(["x=1"] * n)),
)
methods = st.sampled_from(["GET"] * 6 + ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
authorizations = st.one_of(
    st.none(),
    st.just(VALID_TOKEN),
    st.sampled_from(["Bearer", "Bearer ", "Basic YWxhZGRpbg==", "bearer x", "Bearer cpt_x"]),
    st.text(printable, max_size=220).map(lambda token: f"Bearer {token}"),
    st.text(printable, max_size=60),
)
request_ids = st.none() | st.text(printable, max_size=80)


@pytest.fixture
def contests(make_contest, django_capture_on_commit_callbacks) -> str:
    """Public, private, capped and ended contests, all planned; return a valid token."""
    today = timezone.localdate()
    span = {"start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=1)}
    make_contest("C0001", perday=500, **span)
    private = make_contest("C0002", perday=500, **span)
    make_contest("C0003", perday=500, wmax=1, **span)
    make_contest("C0000", start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 31))
    with django_capture_on_commit_callbacks(execute=True):
        client = ApiClient.objects.create(name="Brand")
        client.contests.add(private)
        _, token = issue_token(client)
    return token


def assert_play_answer(status: int, content_type: str, body: bytes, method: str) -> None:
    assert status in STATUSES, (status, body[:200])
    if method == "HEAD":
        return
    assert content_type == "application/json", content_type
    answer = json.loads(body)
    if status == 200:
        assert set(answer) == {"data"} and isinstance(answer["data"]["winner"], bool)
    else:
        assert set(answer) == {"error"}
        assert answer["error"]["status"] == str(status)
        assert answer["error"]["title"] and answer["error"]["detail"]


def test_any_request_gets_an_answer_in_the_envelope(contests):
    token = contests

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(queries, methods, authorizations, request_ids, st.text(printable, max_size=40))
    def check(query, method, authorization, request_id, other_header):
        headers = {"X-Other": other_header}
        if authorization is not None:
            headers["Authorization"] = (
                f"Bearer {token}" if authorization == VALID_TOKEN else authorization
            )
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        response = Client().generic(method, f"/play/?{query}", headers=headers)
        assert_play_answer(
            response.status_code, response.get("Content-Type", ""), response.content, method
        )
        assert response["X-Request-ID"]

    check()


def raw_get(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes to the server; return the status, headers and body of its answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


# Bytes a request target may carry, unescaped, on the wire (no space, no '#').
target_bytes = st.binary(max_size=150).map(
    lambda raw: bytes(b for b in raw if 0x21 <= b <= 0x7E and b != 0x23)
)
header_values = st.binary(max_size=80).map(
    lambda raw: bytes(b for b in raw if b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80)
)


def test_raw_requests_through_gunicorn_never_get_a_server_error(contests):
    with gunicorn() as base:

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.sampled_from([b"GET", b"POST", b"HEAD", b"get", b"G\xc9T"]), target_bytes,
               header_values, header_values)  # fmt: skip
        def check(method, target, authorization, request_id):
            request = (
                method + b" /play/?" + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Authorization: " + authorization + b"\r\nX-Request-ID: " + request_id + b"\r\n"
                b"Connection: close\r\n\r\n"
            )
            status, headers, body = raw_get(base, request)
            assert status < 500, (request, status, body[:200])
            if "x-request-id" in headers:  # the portal answered, not gunicorn's parser
                assert_play_answer(
                    status, headers.get("content-type", ""), body, method.decode("latin-1")
                )

        check()


# Unicode format characters (category Cf) in player ids: invisible, and able to make an id
# read differently from what it is (a right-to-left override turns "admin‮gnp.exe"
# around; a zero-width space makes "al​ice" look like "alice"). Refused like control ones.
FORMAT_CHARACTERS = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u2060", "\ufeff"]


@pytest.mark.django_db
@pytest.mark.parametrize("character", FORMAT_CHARACTERS)
def test_player_ids_with_format_characters_are_refused(client, make_contest, character):
    make_contest(wmax=1)
    response = client.get(f"/play/?contest=C0001&user={quote('al' + character + 'ice')}")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == "Invalid user"


@pytest.mark.django_db
def test_player_ids_may_still_be_any_visible_text(client, make_contest):
    make_contest(start=timezone.localdate(), end=timezone.localdate())
    for player in ["alice", "Ünïcødé-42", "用户", "a b", "="]:
        response = client.get(f"/play/?contest=C0001&user={quote(player)}")
        assert response.status_code == 200, player
