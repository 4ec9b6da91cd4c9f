"""The draw through the play memory: a losing play costs nothing, and the memory is never
trusted beyond what is safe."""

import datetime as dt
import random

import pytest
from django.test import override_settings

from contests.models import DayPlan, Prize, Win, WinningMoment
from contests.moments.claiming import ensure_plans, make_plan
from contests.moments.planning import day_bounds
from contests.play.draw import draw
from contests.play.memory import NextMoment, memory
from tests.clock import ROME, rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def planned(contest):
    ensure_plans(contest, DAY, day_bounds(DAY, ROME)[0], random.Random(3))
    return list(WinningMoment.objects.filter(contest=contest, day=DAY).order_by("at"))


def play(code, now, request_id="r"):
    return draw(memory.contest(code), now, request_id=request_id)


def test_a_losing_play_before_the_remembered_moment_costs_no_query(
    make_contest, django_assert_num_queries
):
    contest = make_contest()
    first = planned(contest)[0]
    play("C0001", first.at - dt.timedelta(seconds=2))  # learns the next moment
    with django_assert_num_queries(0):
        assert play("C0001", first.at - dt.timedelta(seconds=1)) is None


def test_a_due_moment_is_claimed_even_though_the_memory_knew_it_was_coming(make_contest):
    contest = make_contest()
    first = planned(contest)[0]
    play("C0001", first.at - dt.timedelta(seconds=1))
    win = play("C0001", first.at)
    assert win is not None and win.moment_id == first.pk


def test_with_the_memory_forgotten_nothing_is_awarded_twice(make_contest):
    contest = make_contest(perday=5)
    moments = planned(contest)
    late = rome(2020, 2, 10, 23, 0)
    wins = []
    for _ in range(8):
        memory.forget()
        wins.append(play("C0001", late))
    assert [w.moment_id for w in wins if w] == [m.pk for m in moments]
    assert wins[5:] == [None, None, None]


def test_a_stale_early_entry_only_costs_a_database_trip(make_contest):
    contest = make_contest(perday=5)
    moments = planned(contest)
    for _ in range(2):
        play("C0001", moments[1].at)
    # Remembered as if the first moment were still open: the database knows better.
    memory.next_moments[contest.pk] = NextMoment(DAY, moments[0].at)
    assert play("C0001", moments[1].at) is None
    assert Win.objects.count() == 2
    assert memory.next_moment(contest.pk).at == moments[2].at


def test_an_entry_of_another_day_is_ignored(make_contest):
    contest = make_contest(perday=1)
    memory.next_moments[contest.pk] = NextMoment(DAY - dt.timedelta(days=1), None)
    moment = planned(contest)[0]
    assert play("C0001", moment.at) is not None


def test_when_no_moment_is_left_plays_lose_without_queries(make_contest, django_assert_num_queries):
    contest = make_contest(perday=1)
    moment = planned(contest)[0]
    assert play("C0001", moment.at) is not None
    with django_assert_num_queries(0):
        assert play("C0001", rome(2020, 2, 10, 23, 59)) is None


def test_changing_the_contest_dates_takes_effect_at_once(
    make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest()
    assert memory.contest("C0001").end == dt.date(2020, 2, 29)
    contest.end = dt.date(2020, 2, 15)
    with django_capture_on_commit_callbacks(execute=True):
        contest.save()
    assert memory.contest("C0001").end == dt.date(2020, 2, 15)


def test_renaming_a_contest_forgets_its_old_code(make_contest, django_capture_on_commit_callbacks):
    contest = make_contest()
    assert memory.contest("C0001") is not None
    contest.code = "C0002"
    with django_capture_on_commit_callbacks(execute=True):
        contest.save()
    assert memory.contest("C0001") is None
    assert memory.contest("C0002").id == contest.pk


def test_an_unknown_code_is_remembered_until_a_contest_takes_it(
    make_contest, django_capture_on_commit_callbacks
):
    assert memory.contest("C0001") is None
    with django_capture_on_commit_callbacks(execute=True):
        make_contest()
    assert memory.contest("C0001") is not None


def test_a_prize_added_during_the_day_gets_a_plan_for_the_rest_of_it(
    make_contest, django_capture_on_commit_callbacks
):
    contest = make_contest(perday=2)
    planned(contest)
    play("C0001", rome(2020, 2, 10, 1, 0))
    with django_capture_on_commit_callbacks(execute=True):
        Prize.objects.create(contest=contest, code="mug", name="Mug", perday=3)
    play("C0001", rome(2020, 2, 10, 12, 0))
    plan = DayPlan.objects.get(prize__code="mug", day=DAY)
    assert plan.window_start == rome(2020, 2, 10, 12, 0)
    assert plan.moments.count() == 3


def test_a_perday_change_applies_from_the_next_unplanned_day(make_contest):
    contest = make_contest(perday=4)
    planned(contest)
    Prize.objects.filter(contest=contest).update(perday=9)
    prize = Prize.objects.get()
    assert make_plan(prize, DAY, rome(2020, 2, 10, 12)).moments.count() == 4
    assert make_plan(prize, DAY + dt.timedelta(days=1), rome(2020, 2, 10, 12)).moment_count == 9


def test_a_day_that_is_over_is_not_planned(make_contest):
    contest = make_contest()
    assert make_plan(contest.prizes.get(), DAY, rome(2020, 2, 11, 0, 0)) is None
    assert not DayPlan.objects.exists()


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            # Nothing listens on port 1: every cache call fails at once.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
)
def test_with_the_cache_down_plays_are_answered_from_the_database(make_contest):
    contest = make_contest(perday=3)
    moments = planned(contest)
    assert play("C0001", moments[0].at - dt.timedelta(seconds=1)) is None
    wins = [play("C0001", rome(2020, 2, 10, 23, 0)) for _ in range(5)]
    assert [w.moment_id for w in wins if w] == [m.pk for m in moments]
    assert memory.contest("C9999") is None
