"""The contest-wide cap and the play interval under 12 racing threads, each with its own
database connection as separate processes would have. On PostgreSQL claims run side by
side and the cap rests on the advisory lock; on Redis the interval on SET NX EX. (On SQLite
and the local-memory cache the same holds, by their own locks, within one process.)"""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from contests import play_counts
from contests.models import Contest, DayPlan, Prize, Win, WinningMoment
from contests.moments.claiming import ensure_plans
from contests.moments.planning import day_bounds
from tests.clock import ROME, rome
from tests.test_concurrency import THREADS, run_together

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2020, 2, 10)


def rules(contest, **values):
    Contest.objects.filter(pk=contest.pk).update(**values)


def plan(contest, day):
    ensure_plans(contest, day, day_bounds(day, ROME)[0])


def test_racing_plays_of_a_player_one_win_short_of_the_contest_cap_win_once(make_contest):
    contest = make_contest(perday=40)
    rules(contest, wmax_total=3)
    yesterday = DAY - dt.timedelta(days=1)
    plan(contest, yesterday)
    plan(contest, DAY)
    alice = Client()
    with time_machine.travel(rome(2020, 2, 9, 23, 59), tick=False):
        for _ in range(2):  # two of the three wins on another day
            assert alice.get("/play/?contest=C0001&user=alice").json()["data"]["winner"]

    def plays(index):
        client = Client()
        return [client.get("/play/?contest=C0001&user=alice").status_code for _ in range(3)]

    with time_machine.travel(rome(2020, 2, 10, 23, 59), tick=False):
        statuses = [status for batch in run_together(plays) for status in batch]

    assert len(statuses) == THREADS * 3
    assert statuses.count(200) == 1
    assert statuses.count(420) == THREADS * 3 - 1
    assert Win.objects.filter(player="alice").count() == 3
    assert WinningMoment.objects.filter(day=DAY, claimed=False).count() == 40 - 1


def test_racing_plays_of_one_player_within_the_interval_let_exactly_one_through(make_contest):
    contest = make_contest(perday=40)
    rules(contest, play_interval=600)
    plan(contest, DAY)

    def plays(index):
        client = Client()
        return [
            client.get("/play/?contest=C0001&user=alice").status_code,
            client.get(f"/play/?contest=C0001&user=player-{index}").status_code,
        ]

    with time_machine.travel(rome(2020, 2, 10, 23, 59), tick=False):
        results = run_together(plays)

    alice = [first for first, _ in results]
    assert alice.count(200) == 1
    assert alice.count(429) == THREADS - 1
    # Every other player played once, unhindered.
    assert [second for _, second in results] == [200] * THREADS
    assert Win.objects.filter(player="alice").count() == 1
    assert Win.objects.count() == THREADS + 1
    # The refused plays were not counted.
    assert play_counts.plays_on(contest, DAY) == THREADS + 1


def test_racing_planners_of_a_stock_prize_never_plan_more_than_its_stock(make_contest):
    contest = make_contest(perday=10, start=dt.date(2020, 2, 1), end=dt.date(2020, 2, 12))
    Prize.objects.filter(contest=contest).update(stock=30)
    days = [contest.start + dt.timedelta(days=index) for index in range(THREADS)]
    before = day_bounds(contest.start, ROME)[0]

    def plan_one(index):
        # Each thread plans a different day: each would count the whole stock as its own
        # if planners were not made to queue on the prize.
        fresh = Contest.objects.get(pk=contest.pk)
        return ensure_plans(fresh, days[index], before)

    run_together(plan_one)
    counts = list(
        DayPlan.objects.filter(prize__contest=contest).values_list("moment_count", flat=True)
    )
    assert sum(counts) == 30
    assert max(counts) <= 10
    assert WinningMoment.objects.filter(contest=contest).count() == 30
