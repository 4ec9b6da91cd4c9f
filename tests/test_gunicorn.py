"""Through a real gunicorn: what the test client cannot show, such as the status line."""

import datetime as dt
import json
import socket

import pytest
from django.utils import timezone

from contests.models import DayPlan, Prize, WinningMoment
from tests.servers import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


def get(base: str, path: str) -> tuple[str, dict]:
    """Return the raw status line and the JSON body of one GET over a plain socket."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), json.loads(body)


def contest_with_moments_due(make_contest, count: int, wmax: int):
    """Today's contest whose plan has `count` moments that fell due a minute ago."""
    now = timezone.now()
    today = timezone.localdate()
    contest = make_contest(start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1),
                           perday=count, wmax=wmax)  # fmt: skip
    plan = DayPlan.objects.create(
        prize=Prize.objects.get(contest=contest),
        day=today,
        window_start=now - dt.timedelta(minutes=2),
        window_end=now + dt.timedelta(hours=1),
        moment_count=count,
        made_at=now - dt.timedelta(minutes=2),
    )
    WinningMoment.objects.bulk_create(
        WinningMoment(plan=plan, contest=contest, day=today, at=now - dt.timedelta(minutes=1))
        for _ in range(count)
    )
    return contest


def test_420_carries_its_reason_phrase_on_the_wire(make_contest):
    contest_with_moments_due(make_contest, count=3, wmax=1)
    with gunicorn() as base:
        line, body = get(base, "/play/?contest=C0001&user=alice")
        assert (line, body["data"]["winner"]) == ("HTTP/1.1 200 OK", True)
        line, body = get(base, "/play/?contest=C0001&user=alice")
    assert line == "HTTP/1.1 420 Enhance Your Calm"
    assert body["error"]["status"] == "420"
