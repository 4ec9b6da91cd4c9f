"""Plays are counted per contest, local day and hour, in the cache first and then the database."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from contests.models import PlayCount
from contests.play_counts import FLUSH_EVERY, plays_on, plays_per_hour, record_play
from tests.clock import rome

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 2, 10)


def stored(contest):
    return dict(PlayCount.objects.filter(contest=contest, day=DAY).values_list("hour", "plays"))


def test_plays_are_counted_in_their_local_hour(client, make_contest):
    contest = make_contest()
    for moment in [rome(2020, 2, 10, 10, 15), rome(2020, 2, 10, 10, 45), rome(2020, 2, 10, 11, 5)]:
        with time_machine.travel(moment, tick=False):
            assert client.get("/play/?contest=C0001").status_code == 200
    # Read on the same fake clock: the local-memory cache expires entries by that clock.
    with time_machine.travel(rome(2020, 2, 10, 11, 6), tick=False):
        counts = plays_per_hour(contest, DAY)
    assert len(counts) == 24
    assert (counts[10], counts[11], sum(counts)) == (2, 1, 3)


def test_refused_plays_are_not_counted(client, make_contest):
    contest = make_contest()
    with time_machine.travel(rome(2020, 3, 5, 10), tick=False):
        assert client.get("/play/?contest=C0001").status_code == 422
        assert client.get("/play/?contest=C0404").status_code == 404
    assert plays_on(contest, dt.date(2020, 3, 5)) == 0
    assert not PlayCount.objects.exists()


def test_counts_reach_the_database_every_flush_every_plays(make_contest):
    contest = make_contest()
    for _ in range(FLUSH_EVERY * 2 + 30):
        record_play(contest, rome(2020, 2, 10, 9, 30))
    assert stored(contest) == {9: FLUSH_EVERY * 2}
    # Losing the cache now loses only what was not flushed yet, as docs/design.md says.
    cache.clear()
    assert plays_on(contest, DAY) == FLUSH_EVERY * 2
    record_play(contest, rome(2020, 2, 10, 9, 31))
    assert plays_on(contest, DAY) == FLUSH_EVERY * 2 + 1


def test_reading_moves_the_counts_into_the_database(make_contest):
    contest = make_contest()
    for _ in range(7):
        record_play(contest, rome(2020, 2, 10, 23, 59))
    assert plays_on(contest, DAY) == 7
    assert stored(contest) == {23: 7}
    cache.clear()
    assert plays_on(contest, DAY) == 7


def test_a_late_smaller_flush_never_lowers_a_count(make_contest):
    contest = make_contest()
    for _ in range(5):
        record_play(contest, rome(2020, 2, 10, 1))
    plays_on(contest, DAY)
    cache.clear()
    record_play(contest, rome(2020, 2, 10, 1))  # resumes from the database: 6
    assert plays_per_hour(contest, DAY)[1] == 6
    PlayCount.objects.filter(contest=contest).update(plays=50)
    assert plays_per_hour(contest, DAY)[1] == 50


def test_a_25_hour_day_has_25_counted_hours(make_contest):
    contest = make_contest(start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    # 02:30 comes twice on Oct 25: first in summer time (hour 2), then in winter time (hour 3).
    record_play(contest, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC))
    record_play(contest, dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC))
    counts = plays_per_hour(contest, dt.date(2026, 10, 25))
    assert len(counts) == 25
    assert counts[2:4] == [1, 1]


def test_the_flush_command_stores_todays_counts(make_contest):
    contest = make_contest()
    with time_machine.travel(rome(2020, 2, 10, 12), tick=False):
        for _ in range(3):
            record_play(contest, rome(2020, 2, 10, 12))
        out = StringIO()
        call_command("flush_play_counts", stdout=out)
    assert "C0001 2020-02-10: 3 plays" in out.getvalue()
    assert stored(contest) == {12: 3}
