"""The draw rules on the play path: 429 for a play too soon, 420 for the cap over the whole
contest, plays outside opening hours, in the documented order of answers."""

import datetime as dt
import json
import time

import pytest
import time_machine
from django.conf import settings
from jsonschema_rs import Draft202012Validator

from contests import play_counts
from contests.models import Contest, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from contests.play.views import OPENAPI
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)  # a Monday
LATE = rome(2020, 2, 10, 23)  # every moment of the day is due


def plan(contest, day=DAY):
    ensure_plans(contest, day, day_bounds(day, ROME)[0])


def play(client, query, at=LATE, **headers):
    with time_machine.travel(at, tick=False):
        return client.get(f"/play/?{query}", headers=headers)


def winner(response) -> bool:
    assert response.status_code == 200, response.content
    return response.json()["data"]["winner"]


def with_rules(make_contest, perday=5, **rules) -> Contest:
    contest = make_contest(perday=perday)
    Contest.objects.filter(pk=contest.pk).update(**rules)
    contest.refresh_from_db()
    return contest


def on_redis() -> bool:
    return "redis" in settings.CACHES["default"]["BACKEND"]


# Redis keeps its own clock, which the test cannot move: there the interval is a second,
# waited for; on the local-memory cache a minute, travelled past.
INTERVAL = 1 if on_redis() else 60


def after_the_interval() -> dt.datetime:
    if on_redis():
        time.sleep(INTERVAL + 0.2)
    return LATE + dt.timedelta(seconds=INTERVAL + 1)


def test_a_play_sooner_than_the_interval_answers_429_is_not_counted_and_cannot_win(
    client, make_contest
):
    contest = with_rules(make_contest, perday=5, play_interval=60)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    response = play(client, "contest=C0001&user=alice", at=LATE + dt.timedelta(seconds=20))
    assert response.status_code == 429
    assert response.content == (
        b'{"error": {"status": "429", "title": "Too many plays", '
        b'"detail": "Wait 60 seconds between plays in contest code C0001."}}'
    )
    assert 1 <= int(response["Retry-After"]) <= 60
    # Not counted, and the four moments due are all still there.
    assert play_counts.plays_on(contest, DAY) == 1
    assert WinningMoment.objects.filter(claimed=False).count() == 4
    # Another player is not held back.
    assert winner(play(client, "contest=C0001&user=bob", at=LATE + dt.timedelta(seconds=20)))


def test_after_the_interval_the_player_plays_again(client, make_contest):
    contest = with_rules(make_contest, perday=5, play_interval=INTERVAL)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    assert winner(play(client, "contest=C0001&user=alice", at=after_the_interval()))


def test_the_interval_needs_the_user(client, make_contest):
    with_rules(make_contest, play_interval=10)
    response = play(client, "contest=C0001")
    assert response.status_code == 400
    assert response.json()["error"]["title"] == "User missing"


def test_a_refused_retry_leaves_its_idempotency_key_free(client, make_contest):
    if on_redis():
        pytest.skip("travels a minute past the interval: the local-memory cache's clock")
    contest = with_rules(make_contest, perday=5, play_interval=60)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    early = LATE + dt.timedelta(seconds=5)
    keyed = {"Idempotency-Key": "k-1"}
    assert play(client, "contest=C0001&user=alice", at=early, **keyed).status_code == 429
    assert play(client, "contest=C0001&user=alice", at=early, **keyed).status_code == 429
    # Once the interval has passed the same key plays, and its answer is kept from then on.
    later = LATE + dt.timedelta(seconds=61)
    assert winner(play(client, "contest=C0001&user=alice", at=later, **keyed))
    assert winner(play(client, "contest=C0001&user=alice", at=later, **keyed))
    assert Win.objects.count() == 2


def test_the_cap_over_the_whole_contest_answers_420_on_any_day(client, make_contest):
    contest = with_rules(make_contest, perday=5, wmax_total=2)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    next_day = DAY + dt.timedelta(days=1)
    plan(contest, next_day)
    assert winner(play(client, "contest=C0001&user=alice", at=LATE + dt.timedelta(days=1)))
    response = play(client, "contest=C0001&user=alice", at=LATE + dt.timedelta(days=1))
    assert response.status_code == 420
    assert response.reason_phrase == "Enhance Your Calm"
    assert response.content == (
        b'{"error": {"status": "420", "title": "Enhance your calm", '
        b'"detail": "This player has reached the limit of wins (2) in contest code C0001."}}'
    )
    assert winner(play(client, "contest=C0001&user=bob", at=LATE + dt.timedelta(days=1)))
    assert Win.objects.filter(player="alice").count() == 2


def test_the_contest_wide_cap_comes_before_the_daily_one_and_429_before_both(client, make_contest):
    contest = with_rules(make_contest, perday=5, wmax_total=1, play_interval=INTERVAL, wmax=1)
    plan(contest)
    assert winner(play(client, "contest=C0001&user=alice"))
    assert play(client, "contest=C0001&user=alice").status_code == 429
    response = play(client, "contest=C0001&user=alice", at=after_the_interval())
    assert response.status_code == 420
    assert "limit of wins (1)" in response.json()["error"]["detail"]


def test_plays_outside_opening_hours_are_ordinary_losing_plays(client, make_contest):
    contest = with_rules(make_contest, perday=4, opening_hours="mon-fri 08:00-12:00")
    plan(contest)
    moments = sorted(WinningMoment.objects.values_list("at", flat=True))
    assert all(rome(2020, 2, 10, 8) <= at < rome(2020, 2, 10, 12) for at in moments)
    # After closing every moment is due, yet plays lose, and are counted.
    evening = rome(2020, 2, 10, 18)
    assert not winner(play(client, "contest=C0001", at=evening))
    assert play_counts.plays_on(contest, DAY) == 1
    assert not Win.objects.exists()
    # In open time the carried moments are won.
    assert winner(play(client, "contest=C0001", at=rome(2020, 2, 10, 11, 59)))


def test_a_closed_day_answers_r5(client, make_contest):
    with_rules(make_contest, perday=4, opening_hours="mon-fri 08:00-12:00")
    sunday = rome(2020, 2, 9, 10)
    assert not winner(play(client, "contest=C0001", at=sunday))
    assert not winner(play(client, "contest=C0001", at=sunday + dt.timedelta(minutes=1)))


DOCUMENT = json.loads(OPENAPI.read_text())
PLAY = DOCUMENT["paths"]["/play/"]["get"]


def conforms(response) -> dict:
    """The answer matches the schema and headers documented for its status (as in
    tests/test_contract.py); return its body."""
    documented = PLAY["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": DOCUMENT["components"]}).validate(response.json())
    for header in documented.get("headers", {}):
        assert response.has_header(header), header
    return response.json()


def example(status: int, name: str) -> dict:
    return PLAY["responses"][str(status)]["content"]["application/json"]["examples"][name]["value"]


def test_the_documented_examples_of_the_rules_are_what_the_portal_answers(
    client, make_contest, django_capture_on_commit_callbacks
):
    contest = with_rules(make_contest, perday=5, wmax_total=3)
    plan(contest)
    for _ in range(3):
        assert winner(play(client, "contest=C0001&user=alice"))
    assert conforms(play(client, "contest=C0001&user=alice")) == example(420, "contest_cap")
    with django_capture_on_commit_callbacks(execute=True):  # every process hears of it
        contest.play_interval = 60
        contest.save()
    assert winner(play(client, "contest=C0001&user=bob"))
    assert conforms(play(client, "contest=C0001&user=bob")) == example(429, "too_soon")


def test_losing_plays_under_opening_hours_cost_no_query(
    client, make_contest, django_assert_num_queries
):
    contest = with_rules(make_contest, perday=4, opening_hours="mon-fri 08:00-12:00")
    plan(contest)
    first = min(WinningMoment.objects.values_list("at", flat=True))
    play(client, "contest=C0001", at=rome(2020, 2, 10, 7))  # learns the contest
    with django_assert_num_queries(0):
        # Before opening, and in open time before the next moment: from memory alone.
        assert not winner(play(client, "contest=C0001", at=rome(2020, 2, 10, 7, 30)))
        assert not winner(play(client, "contest=C0001", at=first - dt.timedelta(seconds=1)))
    play(client, "contest=C0001", at=rome(2020, 2, 10, 18))
    with django_assert_num_queries(0):
        # After closing, with moments due and unclaimed.
        assert not winner(play(client, "contest=C0001", at=rome(2020, 2, 10, 18, 1)))
