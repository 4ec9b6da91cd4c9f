"""GET /play/ answers R1–R5 of docs/api.md word for word, and nothing else but its envelope."""

import datetime as dt
import json
import logging
import random

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client

from contests.models import Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

NOT_ACTIVE = (
    b'{"error": {"status": "422", "title": "Contest in not active", '
    b'"detail": "The contest with code C0001 is not active."}}'
)
LOST = b'{"data": {"winner": false, "prize": null}}'
WON = (
    b'{"data": {"winner": true, "prize": '
    b'{"code": "five-percent-discount", "name": "Sconto del 5%"}}}'
)


def plan_from_midnight(contest, day):
    """Plan the day as plan_days would, before it begins, with a repeatable draw."""
    ensure_plans(contest, day, day_bounds(day, ROME)[0], random.Random(7))
    return list(WinningMoment.objects.filter(contest=contest, day=day).order_by("at"))


def play(client, query="contest=C0001", at=None, **extra):
    if at is None:
        return client.get(f"/play/?{query}", **extra)
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", **extra)


def assert_envelope(response, status, title, detail):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"status": str(status), "title": title, "detail": detail}}


def test_r1_it_asks_for_the_contest_code(client):
    for query in ["", "contest=", "other=C0001", "CONTEST=C0001", "contest[]=C0001"]:
        response = play(client, query)
        assert_envelope(response, 400, "Contest code missing", "Specify contest code parameter.")
    assert response.content == (
        b'{"error": {"status": "400", "title": "Contest code missing", '
        b'"detail": "Specify contest code parameter."}}'
    )


def test_r2_it_says_an_unknown_code_is_not_found(client, make_contest):
    make_contest()
    response = play(client, "contest=C9999")
    assert_envelope(response, 404, "Contest not found", "Contest code C9999 not found.")
    assert response.content == (
        b'{"error": {"status": "404", "title": "Contest not found", '
        b'"detail": "Contest code C9999 not found."}}'
    )


def test_codes_are_case_sensitive(client, make_contest):
    make_contest()
    assert play(client, "contest=c0001", at=rome(2020, 2, 10, 12)).status_code == 404


def test_r3_it_refuses_plays_before_the_first_local_day(client, make_contest):
    make_contest()
    # 23:59 in Rome on Jan 31 is already Feb 1 nowhere that matters: the contest's zone rules.
    response = play(client, at=rome(2020, 1, 31, 23, 59, 59, 999999))
    assert response.status_code == 422
    assert response.content == NOT_ACTIVE


def test_r3_it_refuses_plays_after_the_last_local_day(client, make_contest):
    make_contest()
    response = play(client, at=rome(2020, 3, 1, 0, 0))
    assert response.content == NOT_ACTIVE
    assert_envelope(
        response, 422, "Contest in not active", "The contest with code C0001 is not active."
    )


@pytest.mark.parametrize(
    "moment",
    [
        rome(2020, 2, 1, 0, 0),  # first local midnight, still Jan 31 in UTC
        rome(2020, 2, 29, 23, 59, 59, 999999),  # last instant of the last day
    ],
)
def test_start_and_end_days_are_both_playable(client, make_contest, moment):
    make_contest()
    response = play(client, at=moment)
    assert response.status_code == 200
    assert response.json()["data"]["winner"] in (True, False)


def test_a_contest_in_another_zone_uses_its_own_days(client, make_contest):
    make_contest(time_zone="America/New_York")
    # Feb 1, 03:00 in Rome is still Jan 31 in New York.
    assert play(client, at=rome(2020, 2, 1, 3, 0)).status_code == 422
    assert play(client, at=rome(2020, 2, 1, 7, 0)).status_code == 200


def test_r5_a_play_before_the_first_moment_loses(client, make_contest):
    contest = make_contest()
    first = plan_from_midnight(contest, dt.date(2020, 2, 10))[0]
    response = play(client, at=first.at - dt.timedelta(microseconds=1))
    assert response.status_code == 200
    assert response.content == LOST
    assert response.json() == {"data": {"winner": False, "prize": None}}
    assert not Win.objects.exists()


def test_r4_a_play_at_the_moment_wins_the_prize(client, make_contest):
    contest = make_contest()
    first = plan_from_midnight(contest, dt.date(2020, 2, 10))[0]
    response = play(client, at=first.at, HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 200
    assert response.content == WON
    assert response.json() == {
        "data": {
            "winner": True,
            "prize": {"code": "five-percent-discount", "name": "Sconto del 5%"},
        }
    }
    win = Win.objects.get()
    assert win.moment_id == first.pk
    assert win.request_id == "req-42"
    assert win.won_at == first.at
    assert win.day == dt.date(2020, 2, 10)


def test_each_moment_is_won_once_and_then_plays_lose(client, make_contest):
    contest = make_contest(perday=3)
    moments = plan_from_midnight(contest, dt.date(2020, 2, 10))
    late = rome(2020, 2, 10, 23, 59)
    answers = [play(client, at=late).content for _ in range(5)]
    assert answers == [WON] * 3 + [LOST] * 2
    assert sorted(Win.objects.values_list("moment_id", flat=True)) == [m.pk for m in moments]


def test_a_passed_moment_goes_to_the_next_play(client, make_contest):
    contest = make_contest()
    moments = plan_from_midnight(contest, dt.date(2020, 2, 10))
    # Nobody played for hours: the next play claims the earliest of the moments that passed.
    response = play(client, at=moments[5].at + dt.timedelta(minutes=1))
    assert response.content == WON
    assert Win.objects.get().moment_id == moments[0].pk


def test_yesterdays_unclaimed_moments_are_not_won_today(client, make_contest):
    contest = make_contest(perday=2)
    plan_from_midnight(contest, dt.date(2020, 2, 10))
    plan_from_midnight(contest, dt.date(2020, 2, 11))
    response = play(client, at=rome(2020, 2, 11, 0, 0))
    assert response.content == LOST
    assert not Win.objects.exists()


def test_the_first_play_of_the_day_plans_the_rest_of_the_day(client, make_contest):
    make_contest(perday=45)
    now = rome(2020, 2, 10, 15, 0)
    assert play(client, at=now).content == LOST
    moments = list(WinningMoment.objects.values_list("at", flat=True))
    assert len(moments) == 45
    assert min(moments) >= now
    assert max(moments) < rome(2020, 2, 11, 0, 0)


@pytest.mark.parametrize(
    "query",
    [
        "contest=" + "C" * 5000,
        "contest=caf%C3%A9",
        "contest=C0001%00",
        "contest=%00",
        "contest=%FF%FE",
        "contest=C%200001",
        "contest=+C0001",
        "contest=C0001%20",
        "contest=%0AC0001",
        "contest=C0001%27%20OR%201=1--",
        "contest=../admin/",
        "contest=%E2%80%AE1000C",
    ],
)
def test_hostile_codes_get_a_json_404(client, make_contest, query, stdout_log):
    make_contest()
    response = play(client, query, at=rome(2020, 2, 10, 12))
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["title"] == "Contest not found"
    assert body["error"]["detail"].startswith("Contest code ")
    # The log line stays one line, whatever the code carried.
    [line] = stdout_log.getvalue().splitlines()
    assert " contests.play " in line and "outcome=not_found status=404" in line
    assert "\x00" not in line


def test_a_repeated_code_is_refused(client, make_contest):
    make_contest()
    response = play(client, "contest=C0001&contest=C0002")
    assert_envelope(
        response, 400, "Contest code repeated", "Specify contest code parameter only once."
    )


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_other_methods_get_405_in_the_envelope(method, make_contest):
    make_contest()
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/play/?contest=C0001")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    if method != "head":
        assert response.json()["error"]["status"] == "405"
    assert not WinningMoment.objects.exists()


def test_answers_are_never_cached(client, make_contest):
    make_contest()
    response = play(client, at=rome(2020, 2, 10, 12))
    assert "no-cache" in response["Cache-Control"]


def test_an_unexpected_error_still_answers_json_and_is_logged(client, make_contest, monkeypatch):
    make_contest()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("contests.play.views.draw", broken)
    with CapturedPlayLogs() as records:
        response = play(client, at=rome(2020, 2, 10, 12), HTTP_X_REQUEST_ID="req-boom")
    assert_envelope(response, 500, "Internal error", "Something went wrong; nothing was awarded.")
    errors = [r for r in records if r.levelno == logging.ERROR]
    assert errors and errors[0].request_id == "req-boom"
    assert "RuntimeError: boom" in errors[0].exc_text


def test_a_database_outage_answers_503_in_the_envelope(client, make_contest, monkeypatch):
    make_contest()

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("contests.play.views.draw", unreachable)
    response = play(client, at=rome(2020, 2, 10, 12))
    assert_envelope(
        response, 503, "Service unavailable", "The service is briefly unavailable; try again."
    )
    assert response["Retry-After"] == "1"


class CapturedPlayLogs:
    """Collect records of the play logger through the project's own handler filter."""

    def __enter__(self):
        from portal.request_id import RequestContextFilter

        self.records = []
        self.handler = logging.Handler()
        self.handler.addFilter(RequestContextFilter())
        self.handler.emit = self._keep
        logging.getLogger("contests.play").addHandler(self.handler)
        return self.records

    def _keep(self, record):
        logging.Formatter().format(record)  # fills exc_text
        self.records.append(record)

    def __exit__(self, *exc):
        logging.getLogger("contests.play").removeHandler(self.handler)


def test_win_answers_are_json_encoded_text(client, make_contest):
    contest = make_contest(prize_name='Sconto "speciale" — 5%')
    first = plan_from_midnight(contest, dt.date(2020, 2, 10))[0]
    response = play(client, at=first.at)
    assert json.loads(response.content)["data"]["prize"]["name"] == 'Sconto "speciale" — 5%'
